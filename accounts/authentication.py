"""DRF authentication with the tenant's API keys (``Authorization: Bearer smk_…``)."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.api_keys import api_key_authenticate, api_key_prefix
from accounts.lockout import api_key_failed, api_key_is_locked, retry_at


class APIKeyAuthentication(authentication.BaseAuthentication):
    """
    ``request.user`` becomes the key's user and ``request.auth`` the APIKey.

    Listed first in the settings, so its ``WWW-Authenticate`` header makes
    a call without credentials a 401 rather than a 403.
    """

    keyword = b"bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as 'Authorization: Bearer <key>'.", code="invalid_key"
            )
        # Guessing keys is a password attack too: the client's address is
        # locked out after repeated wrong keys (accounts.lockout), before any
        # key is looked at.
        if api_key_is_locked(request._request):
            raise exceptions.Throttled(
                wait=max(1, int((retry_at() - timezone.now()).total_seconds())),
                detail="Too many failed API-key attempts from this address.",
                code="locked_out",
            )
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError:
            raw_key = ""
        key = api_key_authenticate(raw_key)
        prefix = api_key_prefix(raw_key)
        # Only a string shaped like a key can ever match one, so only those
        # count as guesses; other tokens (another service's) just fail.
        if key is None:
            if prefix is not None:
                api_key_failed(request._request, prefix)
            raise exceptions.AuthenticationFailed(
                "This API key is not valid for this organisation, or was revoked.",
                code="invalid_key",
            )
        return key.user, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = APIKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A key made by a tenant admin (Settings → API keys, or POST /api/v1/api-keys/), "
                "sent as `Authorization: Bearer smk_…`. It acts as the admin who made it; "
                "a read-only key may only GET."
            ),
        }
