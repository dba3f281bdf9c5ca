"""
A preventive-maintenance request's checklist on the request's page: the
section preventive adds to it (registered in apps.py) and the tick.
Whoever may see the request may tick; ``services.checklist_item_complete``
decides.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from preventive import selectors, services
from preventive.models import ChecklistItem

TEMPLATE = "preventive/_request_checklist.html"


def checklist_panel(request, user) -> dict | None:
    """The checklist section of ``request``'s page; None unless a schedule generated it."""
    occurrence = selectors.occurrence_for_request(request)
    if occurrence is None:
        return None
    items = list(selectors.occurrence_checklist(occurrence))
    return {
        "template": TEMPLATE,
        "occurrence": occurrence,
        "items": items,
        "done": sum(item.is_completed for item in items),
    }


@login_required
@require_POST
def checklist_item_complete(request, pk):
    """Tick an item; htmx gets the checklist back, a plain form the request's page."""
    try:
        item = selectors.checklist_item_get(pk=pk)
        item = services.checklist_item_complete(item=item, user=request.user)
    except ChecklistItem.DoesNotExist:
        raise Http404("No such checklist item.") from None
    maintenance_request = item.occurrence.request
    if request.htmx:
        panel = checklist_panel(maintenance_request, request.user)
        return render(request, TEMPLATE, {"panel": panel})
    return redirect("requests_app:detail", pk=maintenance_request.pk)
