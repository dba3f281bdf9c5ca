"""The main domain's background work: the "find my organisation" e-mail."""

from urllib.parse import urlencode

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from main_site.selectors import organisations_for_email
from smartmaintenance.tasks import PlatformTask


def _login_url(tenant, email, scheme, port) -> str:
    domain = next(
        (d.domain for d in tenant.domains.all() if d.is_primary), tenant.domains.all()[0].domain
    )
    netloc = domain + (f":{port}" if port else "")
    return f"{scheme}://{netloc}/accounts/login/?{urlencode({'email': email})}"


@shared_task(base=PlatformTask, ignore_result=True)
def organisation_links_send(email: str, scheme: str = "https", port: str = ""):
    """
    E-mail ``email`` the login links of the organisations where it has an
    active account; send nothing when there are none (the page said the same
    either way, and an address typed by a stranger gets no mail). ``scheme``
    and ``port`` are the request's, so links work on whatever host serves
    the site.
    """
    organisations = organisations_for_email(email)
    if not organisations:
        return 0
    links = [(tenant.name, _login_url(tenant, email, scheme, port)) for tenant in organisations]
    send_mail(
        subject=_("Your SmartMaintenance organisations"),
        message=render_to_string("emails/find_organisation.txt", {"email": email, "links": links}),
        from_email=None,
        recipient_list=[email],
    )
    return len(links)
