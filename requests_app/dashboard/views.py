"""The staff dashboard page: thin, the figures come from requests_app.dashboard.selectors."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from requests_app.dashboard.selectors import dashboard_get
from requests_app.models import Priority, RequestType, Status


def _labelled(counts: dict, choices) -> list[tuple[str, int]]:
    """``(label, count)`` in the choices' order (the workflow's, for statuses)."""
    return [(choice.label, counts.get(choice.value, 0)) for choice in choices]


@login_required
def dashboard_view(request):
    """Counts, overdue, mean times, requests per month and top assets, as the user may see them."""
    figures = dashboard_get(request.user)
    summary = figures["summary"]
    return render(
        request,
        "requests_app/dashboard.html",
        {
            "summary": summary,
            "by_status": _labelled(summary["status"], Status),
            "by_type": _labelled(summary["type"], RequestType),
            "by_priority": _labelled(summary["priority"], Priority),
            "per_month": figures["per_month"],
            "top_assets": figures["top_assets"],
        },
    )
