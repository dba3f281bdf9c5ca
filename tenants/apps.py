from celery import signals as task_signals
from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        from tenants import jobs, signals

        # The host -> tenant cache (tenants.routing) depends on both models.
        for model_name in ("Tenant", "Domain"):
            model = self.get_model(model_name)
            post_save.connect(signals.routing_changed, sender=model, dispatch_uid="tenants.routing")
            post_delete.connect(
                signals.routing_changed, sender=model, dispatch_uid="tenants.routing"
            )

        post_save.connect(
            signals.tenant_created, sender=self.get_model("Tenant"), dispatch_uid="tenants.spares"
        )
        # Periodic job runs (tenants.jobs) follow their tasks.
        task_signals.task_prerun.connect(jobs.on_task_prerun, dispatch_uid="tenants.jobs")
        task_signals.task_success.connect(jobs.on_task_success, dispatch_uid="tenants.jobs")
        task_signals.task_failure.connect(jobs.on_task_failure, dispatch_uid="tenants.jobs")
