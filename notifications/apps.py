from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and webhooks"

    def ready(self):
        from . import enqueue, openapi  # noqa: F401  (connects the outbox listener; schema components)
