from django.apps import AppConfig


class HealthsvcConfig(AppConfig):
    """The project package as an app, for its system checks (healthsvc/checks.py)."""

    name = "healthsvc"

    def ready(self):
        from healthsvc import checks  # noqa: F401 (registers them)
