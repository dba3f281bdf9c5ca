from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("E-mail outbox")

    def ready(self):
        from tenants.jobs import job_register_every

        # Mail whose task never reached the broker is sent by the sweep.
        job_register_every(
            "outbox.sweep", task="outbox.tasks.emails_sweep", every=timedelta(minutes=5)
        )
