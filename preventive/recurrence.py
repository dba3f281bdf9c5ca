"""
The dates a schedule falls due: pure date arithmetic, no database. How
month-end dates are handled: docs/assets.md, "Preventive maintenance".
"""

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

from preventive.models import MaintenanceSchedule, Recurrence


def add_months(start: date, months: int, day: int) -> date:
    """
    ``day`` of the month ``months`` after ``start``'s month, clamped to that
    month's last day: day 31 is 30 April and 28 (or 29) February.

    The day is always the schedule's anchor, never the previous occurrence's
    day, so a schedule on the 31st comes back to the 31st after February.
    """
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def first_occurrence(schedule: MaintenanceSchedule) -> date:
    """The schedule's first due date: ``starts_on`` or the first matching day after it."""
    start = schedule.starts_on
    if schedule.recurrence == Recurrence.WEEKDAY:
        return start + timedelta(days=(schedule.weekday - start.weekday()) % 7)
    if schedule.recurrence == Recurrence.DAY_OF_MONTH:
        this_month = add_months(start, 0, schedule.day_of_month)
        return this_month if this_month >= start else add_months(start, 1, schedule.day_of_month)
    return start


def occurrences_due(
    schedule: MaintenanceSchedule, until: date, after: date | None = None
) -> Iterator[date]:
    """
    The schedule's due dates up to ``until`` (inclusive), in order, only
    those later than ``after`` when it is given.

    - days, weeks: ``starts_on``, then every N days or 7N days;
    - weekday: the first such weekday on or after ``starts_on``, then every N weeks;
    - months: ``starts_on``'s day of the month, every N months;
    - day of month: the first such day on or after ``starts_on``, every N months.

    Month steps clamp the day to the month's end (31 → 30 April → 28 or 29
    February) and are counted from the first date, so they never drift.
    """
    first = first_occurrence(schedule)
    low = first if after is None else max(first, after + timedelta(days=1))
    if low > until:
        return
    step = schedule.interval
    if schedule.recurrence in (Recurrence.MONTHS, Recurrence.DAY_OF_MONTH):
        anchor = first.day if schedule.recurrence == Recurrence.MONTHS else schedule.day_of_month
        # Jump close to ``low`` rather than walking from the first date: a
        # schedule may be years old. One step short, to be safe with clamping.
        months_to_low = (low.year - first.year) * 12 + low.month - first.month
        k = max(months_to_low // step - 1, 0)
        while (due := add_months(first, k * step, anchor)) <= until:
            if due >= low:
                yield due
            k += 1
    else:
        days = step * (1 if schedule.recurrence == Recurrence.DAYS else 7)
        k = -(-(low - first).days // days)  # ceiling division
        while (due := first + timedelta(days=k * days)) <= until:
            yield due
            k += 1
