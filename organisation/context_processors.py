from django.utils.functional import SimpleLazyObject

from organisation.selectors import branding_for, settings_sections


def branding(request):
    """
    ``branding`` for base.html (the tenant's stylesheet and logo, when it has
    them) and ``settings_sections`` for the settings menu, computed only on
    the pages that show it.
    """
    user = getattr(request, "user", None)
    return {
        "branding": branding_for(getattr(request, "tenant", None)),
        "settings_sections": SimpleLazyObject(
            lambda: settings_sections(user) if user is not None and user.is_authenticated else []
        ),
    }
