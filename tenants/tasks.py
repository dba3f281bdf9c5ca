from celery import shared_task

from tenants.provisioning import spares_fill


@shared_task(ignore_result=True)
def spare_schemas_fill():
    """Top up the pool of spare tenant schemas (see tenants.provisioning)."""
    spares_fill()
