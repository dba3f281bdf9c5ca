from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth import signals as auth

        from audit import signals
        from tenants.exports import tenant_exported
        from tenants.jobs import job_register_daily

        auth.user_logged_in.connect(signals.login_succeeded, dispatch_uid="audit.login")
        auth.user_login_failed.connect(signals.login_failed, dispatch_uid="audit.login_failed")
        auth.user_logged_out.connect(signals.logged_out, dispatch_uid="audit.logout")
        user_locked_out.connect(signals.locked_out, dispatch_uid="audit.locked_out")
        tenant_exported.connect(signals.tenant_exported, dispatch_uid="audit.exported")
        # Early in each tenant's day, before anyone reads the log.
        job_register_daily("audit.prune", task="audit.tasks.audit_prune", local_hour=3)
