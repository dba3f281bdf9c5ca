"""
Which URLs may receive webhooks: refuse what would let a tenant reach our own
network (SSRF). Checked when an endpoint is saved and again before every send, when the
address checked is the one connected to (see webhooks.transport).
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
    may not resolve yet); sending uses ``url_resolve`` instead.
    """
    host, port = _static_check(url)
    if resolve or _is_address(host):
        _checked_addresses(host, port)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_resolve(url: str) -> str:
    """
    Check ``url`` as ``url_check`` does, resolving its host exactly once, and
    return the address to connect to. The sender connects to that address and
    to no other (see webhooks.transport): resolving again when connecting
    would let a DNS server answer a public address to the check and a private
    one to the connection (DNS rebinding).
    """
    host, port = _static_check(url)
    return _checked_addresses(host, port)[0]


def _static_check(url: str) -> tuple[str, int]:
    """What needs no DNS: scheme, credentials, names never public. Returns (host, port)."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed_schemes:
        raise UnsafeURL(_("The URL must start with https://."))
    if not parts.hostname:
        raise UnsafeURL(_("The URL has no host."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Put no user name or password in the URL; verify the signature instead."))
    host = parts.hostname.rstrip(".").lower()
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES and (
        host == "localhost" or host.endswith(BLOCKED_HOST_SUFFIXES)
    ):
        raise UnsafeURL(_("The URL must point to a public internet address."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURL(_("The URL's port is not a number between 0 and 65535.")) from error
    return host, port


def _checked_addresses(host: str, port: int) -> list[str]:
    """``host``'s addresses (itself if it is one), all of them public unless allowed."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = _resolved_addresses(host, port)
        except OSError as error:
            raise UnsafeURL(_("The host name could not be resolved.")) from error
    if not addresses:
        raise UnsafeURL(_("The host name could not be resolved."))
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        _refuse_private(addresses)
    return addresses


def _refuse_private(addresses: list[str]) -> None:
    if not all(_address_is_public(address) for address in addresses):
        raise UnsafeURL(_("The URL must point to a public internet address."))


def endpoint_url_validate(url: str) -> None:
    """The save-time check, as a ValidationError on the ``url`` field."""
    try:
        url_check(url, resolve=False)
    except UnsafeURL as error:
        raise ValidationError({"url": [error.args[0]]}, code="unsafe_url") from error
