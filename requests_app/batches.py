"""
Work done row by row by the periodic jobs (automatic closing, SLA notices):
each row in its own transaction, so one failure or a long run holds no lock
on the rest.
"""

from django.db import transaction


def each_locked(rows, *, recheck, apply) -> int:
    """
    Call ``apply(row)`` on each of ``rows`` (in their order), one transaction
    each. The row is read again under a row lock from ``recheck`` first: one
    that has left it since the list was read (another run, a user) is
    skipped, as is one for which ``apply`` returns False. Returns how many
    rows were applied.

    ``recheck`` is ``rows`` without what cannot be locked, e.g. a filter
    across an outer join.
    """
    applied = 0
    for pk in rows.values_list("pk", flat=True):
        with transaction.atomic():
            row = recheck.select_for_update().filter(pk=pk).first()
            if row is None or apply(row) is False:
                continue
        applied += 1
    return applied
