"""
Which URLs may receive webhooks: refuse what would let a tenant reach our own
network (SSRF). Checked when an endpoint is saved and again before every send.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class UnsafeURL(ValueError):
    pass


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolved_addresses(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def url_check(url: str, *, resolve: bool) -> None:
    """
    Raise UnsafeURL unless ``url`` may receive webhooks: https (http only when
    WEBHOOKS_ALLOW_HTTP), no credentials, and - unless
    WEBHOOKS_ALLOW_PRIVATE_ADDRESSES - a host that neither is nor (with
    ``resolve``) resolves to a private, loopback, link-local or reserved
    address. Checked when the endpoint is saved (without resolving: a name
    may not resolve yet) and again before every send (resolving, so that a
    name re-pointed at an internal address later is caught).
    """
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed_schemes:
        raise UnsafeURL(_("The URL must start with https://."))
    if not parts.hostname:
        raise UnsafeURL(_("The URL has no host."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Put no user name or password in the URL; verify the signature instead."))
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(BLOCKED_HOST_SUFFIXES):
        raise UnsafeURL(_("The URL must point to a public internet address."))
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return
        try:
            addresses = _resolved_addresses(host, parts.port or 443)
        except OSError as error:
            raise UnsafeURL(_("The host name could not be resolved.")) from error
    if not all(_address_is_public(address) for address in addresses):
        raise UnsafeURL(_("The URL must point to a public internet address."))


def endpoint_url_validate(url: str) -> None:
    """The save-time check, as a ValidationError on the ``url`` field."""
    try:
        url_check(url, resolve=False)
    except UnsafeURL as error:
        raise ValidationError({"url": [error.args[0]]}, code="unsafe_url") from error
