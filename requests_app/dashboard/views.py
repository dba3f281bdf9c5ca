"""
The staff dashboard and the home page: thin, the figures and lists come from
requests_app.dashboard.selectors.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from requests_app.dashboard import selectors
from requests_app.models import Priority, RequestType, Status
from requests_app.templatetags.requests_ui import PRIORITY_TONES, STATUS_TONES


def _labelled(counts: dict, choices) -> list[tuple[str, int]]:
    """``(label, count)`` in the choices' order (the workflow's, for statuses)."""
    return [(choice.label, counts.get(choice.value, 0)) for choice in choices]


def _series(counts: dict, choices, tones=None) -> dict:
    """One chart's data: labels, values and, for statuses and priorities, the badges' colours."""
    series = {
        "labels": [str(choice.label) for choice in choices],
        "values": [counts.get(choice.value, 0) for choice in choices],
    }
    if tones:
        series["tones"] = [tones[choice] for choice in choices]
    return series


def _chart_data(summary: dict, per_month: list) -> dict:
    """What static/js/dashboard.js draws, passed with json_script (the CSP forbids inline code)."""
    return {
        "per_month": {
            "labels": [month.strftime("%b %Y") for month, _count in per_month],
            "values": [count for _month, count in per_month],
        },
        "status": _series(summary["status"], Status, STATUS_TONES),
        "type": _series(summary["type"], RequestType),
        "priority": _series(summary["priority"], Priority, PRIORITY_TONES),
    }


@login_required
def dashboard_view(request):
    """KPIs, charts, the overdue list and top assets, over the requests the user may see."""
    now = timezone.now()
    figures = selectors.dashboard_get(request.user, now=now)
    summary = figures["summary"]
    return render(
        request,
        "requests_app/dashboard.html",
        {
            "nav": "dashboard",
            "summary": summary,
            "by_status": _labelled(summary["status"], Status),
            "by_type": _labelled(summary["type"], RequestType),
            "by_priority": _labelled(summary["priority"], Priority),
            "per_month": figures["per_month"],
            "top_assets": figures["top_assets"],
            "overdue": selectors.dashboard_overdue(request.user, now=now),
            "chart_data": _chart_data(summary, figures["per_month"]),
        },
    )


@login_required
def home_view(request):
    """
    Where "/" leads: leads to the dashboard; a technician to their queue
    (their open requests, then the unassigned ones of their trades); anyone
    else to the requests they filed.
    """
    kind = selectors.home_kind(request.user)
    if kind == "dashboard":
        return redirect("requests_app:dashboard")
    context = {"nav": "requests", "kind": kind}
    if kind == "queue":
        context["queue"] = selectors.technician_queue(request.user)
        context["unassigned"] = selectors.technician_unassigned(request.user)
    else:
        context["mine"] = selectors.requester_requests(request.user)
    return render(request, "home.html", context)
