from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        from tenants import signals

        # The host -> tenant cache (tenants.routing) depends on both models.
        for model_name in ("Tenant", "Domain"):
            model = self.get_model(model_name)
            post_save.connect(signals.routing_changed, sender=model, dispatch_uid="tenants.routing")
            post_delete.connect(
                signals.routing_changed, sender=model, dispatch_uid="tenants.routing"
            )
