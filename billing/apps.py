from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from billing.plans import Feature, PlanCode
        from tenants.validators import plan_vocabulary_register

        # Tenant.plan's choices and the feature names its overrides may use.
        plan_vocabulary_register(plan_choices=PlanCode.choices, feature_names=Feature.values)
