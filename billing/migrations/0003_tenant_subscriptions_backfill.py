"""Every existing organisation gets its subscription row: its plan, on trial or not, as it is."""

from django.db import migrations

# The catalogue's monthly prices when this migration was written (billing.plans).
MONTHLY_PRICES = {"free": 0, "basic": 29, "premium": 99, "enterprise": 0}


def backfill(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    TenantSubscription = apps.get_model("billing", "TenantSubscription")
    for tenant in Tenant.objects.exclude(subdomain=None).filter(subscription__isnull=True):
        trial = tenant.status == "trial"
        TenantSubscription.objects.create(
            tenant=tenant,
            plan=tenant.plan,
            status="trialing" if trial else "cancelled" if tenant.status == "cancelled" else "active",
            price=0 if trial else MONTHLY_PRICES.get(tenant.plan, 0),
            trial_start=tenant.created if trial else None,
            trial_end=tenant.trial_ends if trial else None,
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_tenantsubscription_stripeevent")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
