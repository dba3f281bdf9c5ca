"""
Who may see an attachment is up to the app that owns what it is attached to.

Each owning app registers, in its ``AppConfig.ready()``, a checker for the
``Attachment`` field that names its objects::

    visibility.register("request", request_is_visible_to)

A checker takes ``(owner, user)`` and answers True when ``user`` may see
``owner``, and so its files. An owner without a checker shows its files to
nobody: forgetting to register fails closed.
"""

from collections.abc import Callable

_checkers: dict[str, Callable] = {}


def register(owner_field: str, checker: Callable) -> None:
    _checkers[owner_field] = checker


def owner_is_visible_to(owner_field: str, owner, user) -> bool:
    checker = _checkers.get(owner_field)
    return checker is not None and bool(checker(owner, user))
