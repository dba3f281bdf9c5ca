"""Status and priority badges: one colour per value on every page."""

from django import template
from django.utils.html import format_html

from requests_app.models import Priority, Status

register = template.Library()

# Bootstrap's text-bg-* pairs keep text contrast at AA on every badge.
STATUS_TONES = {
    Status.NEW: "primary",
    Status.TRIAGED: "info",
    Status.ASSIGNED: "info",
    Status.IN_PROGRESS: "warning",
    Status.ON_HOLD: "secondary",
    Status.RESOLVED: "success",
    Status.CLOSED: "dark",
    Status.CANCELLED: "light",
    Status.REOPENED: "danger",
}
PRIORITY_TONES = {
    Priority.LOW: "light",
    Priority.MEDIUM: "secondary",
    Priority.HIGH: "warning",
    Priority.URGENT: "danger",
}


def _badge(tone, label, css):
    return format_html('<span class="badge text-bg-{} {}">{}</span>', tone, css, label)


@register.simple_tag
def status_badge(status):
    status = Status(status)
    return _badge(STATUS_TONES[status], status.label, "badge-status")


@register.simple_tag
def priority_badge(priority):
    priority = Priority(priority)
    return _badge(PRIORITY_TONES[priority], priority.label, "badge-priority")
