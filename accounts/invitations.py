"""
Invitations: a signed link, e-mailed to a new user created without a
password, where they choose one. The link expires after
``INVITATION_MAX_AGE`` and works once: it signs a fingerprint of the user's
password hash, which setting a password changes (and the user must still be
active and without a usable password). Links are built by the view from the
request's own host, never from a configured domain.
"""

from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts import services
from accounts.models import User
from tenants.selectors import current_tenant

INVITATION_MAX_AGE = timedelta(days=7)
_SALT = "accounts.invitations"


class InvalidInvitation(Exception):
    """The link is forged, expired, used, or its user deactivated."""


def _fingerprint(user: User) -> str:
    # Changes when the password does: the link dies once a password is set.
    return salted_hmac(_SALT, f"{user.pk}:{user.password}").hexdigest()[:20]


def invitation_token_make(user: User) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object(
        {"user": user.pk, "fp": _fingerprint(user)}, compress=True
    )


def invitation_user_get(token: str) -> User:
    """The user a valid link is for; InvalidInvitation otherwise."""
    try:
        payload = signing.TimestampSigner(salt=_SALT).unsign_object(
            token, max_age=INVITATION_MAX_AGE
        )
    except signing.BadSignature:  # SignatureExpired is one too
        raise InvalidInvitation from None
    user = User.objects.filter(pk=payload.get("user"), is_active=True).first()
    if user is None or user.has_usable_password() or payload.get("fp") != _fingerprint(user):
        raise InvalidInvitation
    return user


def invitation_send(*, user: User, url: str, invited_by: User | None = None) -> None:
    """
    E-mail ``user`` the invitation ``url`` (whose token ``invitation_token_make``
    gave). Only for active users who have no password yet.
    """
    if not user.is_active or user.has_usable_password():
        raise ValidationError(
            _("%(user)s already has a password or is deactivated: nothing to send.")
            % {"user": user.email},
            code="invitation_not_needed",
        )
    tenant = current_tenant()
    context = {
        "user": user,
        "url": url,
        "tenant": tenant,
        "invited_by": invited_by,
        "days": INVITATION_MAX_AGE.days,
    }
    send_mail(
        subject=_("You are invited to %(organisation)s on SmartMaintenance")
        % {"organisation": tenant.name},
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Set the invited user's password; the link stops working at once."""
    user = invitation_user_get(token)
    user = User.objects.select_for_update().get(pk=user.pk)
    # A second tab may have used the link while this one waited for the lock.
    if user.has_usable_password():
        raise InvalidInvitation
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def user_invite_and_send(*, link_for, invited_by: User | None = None, **fields) -> User:
    """
    ``services.user_invite`` and, when no password was given, the invitation
    e-mail, in one transaction. ``link_for(token)`` makes the link's absolute
    URL (the view's job: it knows the host the admin is on).
    """
    with transaction.atomic():
        user = services.user_invite(**fields)
        if not user.has_usable_password():
            invitation_send(
                user=user, url=link_for(invitation_token_make(user)), invited_by=invited_by
            )
    return user
