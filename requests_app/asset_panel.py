"""The requests panel of an asset's page (registered with ``assets.panels`` in apps.py)."""

from requests_app.models import OPEN_STATUSES
from requests_app.selectors import request_list_visible_to

SHOWN = 10


def asset_requests_panel(asset, user) -> dict | None:
    """
    The latest requests about ``asset`` that ``user`` may see, and how many
    of them are open: two queries, however many there are.
    """
    if not user.has_perm("requests_app.view_maintenancerequest"):
        return None
    requests = request_list_visible_to(user).filter(asset=asset)
    return {
        "requests": list(requests.order_by("-created", "-pk")[:SHOWN]),
        "open_count": requests.filter(status__in=OPEN_STATUSES).count(),
        "shown": SHOWN,
    }
