from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = "Organisations and access"

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from organisations.audit import admin_change_recorded

        # Admin writes have no service of their own to call the audit trail.
        post_save.connect(admin_change_recorded, sender=LogEntry, dispatch_uid="audit-admin")
