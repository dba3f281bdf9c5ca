"""
Sections of a request's page that apps above requests_app add (preventive
maintenance: the checklist of a request it generated). Such an app registers
a provider in its ``AppConfig.ready()``; requests_app never imports it.
"""

_providers = []


def request_panel_register(provider) -> None:
    """
    ``provider(request, user)`` returns None (nothing to show) or a dict with
    ``template`` (included on the page with the dict as ``panel``) and the
    values that template reads. It must read in a fixed number of queries.
    """
    if provider not in _providers:
        _providers.append(provider)


def request_panels(request, user) -> list[dict]:
    """The registered sections that have something to show for ``request``."""
    return [panel for panel in (provider(request, user) for provider in _providers) if panel]
