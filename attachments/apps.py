from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = "Attachments"

    def ready(self):
        from tenants.jobs import job_register_daily

        # At night, local time: files of uploads that rolled back, once past the grace period.
        job_register_daily(
            "attachments.sweep_orphans",
            task="attachments.tasks.attachments_sweep_orphans",
            local_hour=3,
        )
