"""Enrolling, disabling and requiring a second factor."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.two_factor.rules import TENANT_SETTING, two_factor_required
from audit.models import Action
from audit.services import audit_record, changes_between
from billing import limits
from billing.plans import Feature

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


@transaction.atomic
def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """
    A new, unconfirmed authenticator for ``user`` (its secret in the QR
    code); an earlier unconfirmed one is dropped. It counts only once
    confirmed with a code (``totp_enrolment_confirm``).
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def totp_enrolment_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """
    Confirm ``device`` with a code from the app; return fresh recovery codes
    (shown once: only the device keeps them, to check and use up). Replaces
    any earlier app and recovery codes of ``user``.
    """
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError({"code": _("Start the set-up again.")}, code="stale_device")
    if not device.verify_token((code or "").replace(" ", "")):
        raise ValidationError(
            {"code": _("That code is not right. Check the app's clock and try again.")},
            code="wrong_code",
        )
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    audit_record(action=Action.TWO_FACTOR_ENABLED, target=user, actor=user)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, tenant) -> None:
    """Remove ``user``'s second factor, unless they are required to have one."""
    if two_factor_required(user, tenant):
        raise ValidationError(
            _("Your organisation requires two-factor authentication of your account."),
            code="two_factor_required",
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(action=Action.TWO_FACTOR_DISABLED, target=user, actor=user)


@transaction.atomic
def tenant_two_factor_requirement_set(*, tenant, required: bool, by: User) -> None:
    """
    Turn the tenant's "require 2FA of admins" on or off. Turning it on needs
    a plan with the feature; admins without a device are asked to enrol at
    their next page.
    """
    if required:
        limits.require_feature(tenant, Feature.REQUIRE_TWO_FACTOR)
    before = {TENANT_SETTING: bool((tenant.settings or {}).get(TENANT_SETTING))}
    tenant.settings = {**(tenant.settings or {}), TENANT_SETTING: bool(required)}
    tenant.save(update_fields=["settings"])
    changes = changes_between(before, {TENANT_SETTING: bool(required)})
    if changes:
        audit_record(action=Action.SETTINGS_CHANGED, target=tenant, actor=by, changes=changes)
