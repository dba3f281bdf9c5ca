"""The schedules panel of an asset's page (registered with ``assets.panels`` in apps.py)."""

from preventive.selectors import (
    preventive_in_plan,
    schedule_list_for_pages,
    schedule_next_due,
    tenant_today,
)


def asset_schedules_panel(asset, user) -> dict | None:
    """
    The asset's schedules with their next due date, for those who may see
    schedules: one query (next dates are arithmetic), none outside the plan.
    """
    if not user.has_perm("preventive.view_maintenanceschedule"):
        return None
    if not preventive_in_plan():
        return {"in_plan": False}
    today = tenant_today()
    schedules = schedule_list_for_pages(asset=asset)
    return {
        "in_plan": True,
        "rows": [(schedule, schedule_next_due(schedule, today)) for schedule in schedules],
    }
