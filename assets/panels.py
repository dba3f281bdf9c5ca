"""
Sections that the apps above assets add to an asset's page: its requests
(requests_app) and its maintenance schedules (preventive). assets sits below
them and imports neither, so each registers a panel in its
``AppConfig.ready()``::

    panels.asset_panel_register(
        "schedules", template="assets/panels/schedules.html", context=schedule_panel, order=20
    )

``context(asset, user)`` returns the panel's template context, or None to
leave the panel out for that user. It must cost a fixed number of queries,
whatever the asset holds (a page's query count must not grow with its rows).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AssetPanel:
    key: str
    template: str
    context: Callable
    order: int


_panels: dict[str, AssetPanel] = {}


def asset_panel_register(key: str, *, template: str, context: Callable, order: int = 100) -> None:
    _panels[key] = AssetPanel(key=key, template=template, context=context, order=order)


def asset_panels(asset, user) -> list[dict]:
    """The panels ``user`` sees on ``asset``'s page, in order: dicts of key, template, context."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda panel: (panel.order, panel.key)):
        context = panel.context(asset, user)
        if context is not None:
            shown.append({"key": panel.key, "template": panel.template, "context": context})
    return shown
