"""
The design system's template tags: form widgets with Bootstrap's classes,
human durations, and the small pieces every page shares.

Registered as the ``ui`` library in TEMPLATES (settings), so any template can
``{% load ui %}`` without the core being an installed app.
"""

from datetime import timedelta

from django import forms, template
from django.utils.html import format_html

register = template.Library()

_CHECK_WIDGETS = (forms.CheckboxInput,)
_CHOICE_LIST_WIDGETS = (forms.CheckboxSelectMultiple, forms.RadioSelect)
_SELECT_WIDGETS = (forms.Select, forms.SelectMultiple)


@register.filter
def widget_kind(bound_field) -> str:
    """How a field is laid out: 'check', 'choices' (a list of boxes), 'select' or 'input'."""
    widget = bound_field.field.widget
    if isinstance(widget, _CHECK_WIDGETS):
        return "check"
    if isinstance(widget, _CHOICE_LIST_WIDGETS):
        return "choices"
    if isinstance(widget, _SELECT_WIDGETS):
        return "select"
    return "input"


_WIDGET_CLASSES = {
    "check": "form-check-input",
    "choices": "form-check-input",
    "select": "form-select",
    "input": "form-control",
}


@register.simple_tag
def field_widget(bound_field):
    """The field's widget with Bootstrap's class, marked invalid when it has errors."""
    classes = [_WIDGET_CLASSES[widget_kind(bound_field)]]
    existing = bound_field.field.widget.attrs.get("class")
    if existing:
        classes.append(existing)
    if bound_field.errors:
        classes.append("is-invalid")
    return bound_field.as_widget(attrs={"class": " ".join(classes)})


@register.filter
def choice_options(bound_field):
    """The boxes of a multiple-choice or radio field, each with Bootstrap's class."""
    options = bound_field.subwidgets
    for option in options:
        option.data["attrs"]["class"] = "form-check-input"
    return options


@register.filter
def human_duration(value) -> str:
    """A duration as people say it: '45 s', '12 min', '3 h 20 min', '2 d 4 h'; '—' for none."""
    if value is None or value == "":
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    if seconds < 0:
        seconds = 0
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.simple_tag
def icon(name, label=""):
    """A Bootstrap icon; with a label, screen readers say the label instead of nothing."""
    if label:
        return format_html('<i class="bi bi-{}" role="img" aria-label="{}"></i>', name, label)
    return format_html('<i class="bi bi-{}" aria-hidden="true"></i>', name)
