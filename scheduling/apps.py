from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scheduling"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from healthsvc.api.caching import catalogue_changed
        from scheduling.models import AppointmentSlot, Leave

        # A saved slot or a leave changes the doctor's free slots (the services'
        # bulk writes, booked_count and generation, call catalogue_changed themselves).
        def slots_changed(sender, instance, **kwargs):
            catalogue_changed(doctor_ids=[instance.doctor_id])

        for model in (AppointmentSlot, Leave):
            uid = f"catalogue-{model.__name__}"
            post_save.connect(slots_changed, sender=model, dispatch_uid=f"{uid}-saved", weak=False)
            post_delete.connect(slots_changed, sender=model, dispatch_uid=f"{uid}-deleted", weak=False)
