from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinics"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save

        from accounts.models import User
        from clinics.models import Clinic, Doctor
        from healthsvc.api.caching import catalogue_changed

        # Clinics and doctors (a doctor's name and email live on their user)
        # are the catalogue: any save, from a service or the admin, drops its answers.
        unseen = {"last_login", "password", "token_version", "updated_at"}  # not in any catalogue answer

        def changed(sender, instance, update_fields=None, **kwargs):
            if update_fields and set(update_fields) <= unseen:
                return
            if sender is not User or instance.role == User.Role.DOCTOR:
                catalogue_changed(catalogue=True)

        for model in (Clinic, Doctor, User):
            uid = f"catalogue-{model.__name__}"
            post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-saved", weak=False)
            post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-deleted", weak=False)

        connection_created.connect(_sqlite_search_fold, dispatch_uid="clinics-search-fold", weak=False)


def _sqlite_search_fold(sender, connection, **kwargs):
    """SQLite has no unaccent: the search's hs_search_fold is Python there
    (PostgreSQL's is SQL, made by migration 0006)."""
    if connection.vendor == "sqlite":
        from clinics.search import search_fold

        connection.connection.create_function("hs_search_fold", 1, search_fold, deterministic=True)
