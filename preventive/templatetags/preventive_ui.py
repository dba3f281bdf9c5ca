"""How schedules read on the pages: "Every 2 weeks on Monday"."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from preventive.models import Recurrence, Weekday

register = template.Library()


@register.filter
def recurrence_text(schedule) -> str:
    n = schedule.interval
    if schedule.recurrence == Recurrence.DAYS:
        return ngettext("Every day", "Every %(n)s days", n) % {"n": n}
    if schedule.recurrence == Recurrence.WEEKS:
        return ngettext("Every week", "Every %(n)s weeks", n) % {"n": n}
    if schedule.recurrence == Recurrence.MONTHS:
        return ngettext("Every month", "Every %(n)s months", n) % {"n": n}
    if schedule.recurrence == Recurrence.WEEKDAY:
        every = ngettext("Every week", "Every %(n)s weeks", n) % {"n": n}
        return _("%(every)s on %(day)s") % {"every": every, "day": Weekday(schedule.weekday).label}
    every = ngettext("Every month", "Every %(n)s months", n) % {"n": n}
    return _("%(every)s on day %(day)s") % {"every": every, "day": schedule.day_of_month}
