from datetime import timedelta

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from audit.services import retention_days_register
        from billing.plans import Feature, PlanCode, get_plan
        from tenants.jobs import job_register_daily, job_register_every
        from tenants.validators import plan_vocabulary_register

        # Tenant.plan's choices and the feature names its overrides may use.
        plan_vocabulary_register(plan_choices=PlanCode.choices, feature_names=Feature.values)
        # The audit log sits below billing, so its retention comes from here.
        retention_days_register(lambda tenant: get_plan(tenant.plan).audit_retention_days)
        # Late in each tenant's day: that day's usage, recorded under its date.
        job_register_daily(
            "billing.usage_snapshot", task="billing.tasks.usage_snapshot", local_hour=23
        )
        # Dunning: a past-due tenant is suspended within the hour its grace ends.
        job_register_every(
            "billing.dunning", task="billing.tasks.dunning", every=timedelta(hours=1)
        )
