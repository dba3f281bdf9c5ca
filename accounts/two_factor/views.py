from base64 import b32encode
from functools import wraps

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_login_failed
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.lockout import lockout_response
from accounts.two_factor import services
from accounts.two_factor.forms import CodeForm, RequirementForm
from accounts.two_factor.rules import (
    tenant_requires_two_factor,
    two_factor_required,
    user_has_two_factor,
)
from billing import limits
from billing.plans import Feature
from smartmaintenance.forms import add_service_error

ENROL_SESSION_KEY = "two_factor_enrol_device"


def signed_in(view):
    """``login_required`` for both hosts: platform admins sign in at the admin's login."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        tenant = getattr(request, "tenant", None)
        login_url = "admin:login" if tenant is None or tenant.is_public else settings.LOGIN_URL
        return redirect_to_login(request.get_full_path(), login_url)

    return wrapper


def _next_url(request, default="/"):
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return default


@signed_in
def verify(request):
    """The second step of a login: a code from the app, or a recovery code."""
    user = request.user
    if user.is_verified() or not user_has_two_factor(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You used a recovery code; %(left)d left.") % {"left": left},
                )
            return redirect(_next_url(request))
        # A wrong code counts as a failed login, so guessing codes locks out too.
        user_login_failed.send(
            sender=__name__, credentials={"username": user.email}, request=request
        )
        if getattr(request, "axes_locked_out", False):
            logout(request)
            return lockout_response(request)
        form.add_error("code", _("That code is not right."))
    return render(
        request, "accounts/two_factor/verify.html", {"form": form, "next": _next_url(request)}
    )


@signed_in
def enrol(request):
    """Set up an authenticator app: QR code, confirm with a code, then recovery codes once."""
    user = request.user
    device = None
    device_id = request.session.get(ENROL_SESSION_KEY)
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None or request.method == "GET":
        device = services.totp_enrolment_start(user=user)
        request.session[ENROL_SESSION_KEY] = device.pk
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enrolment_confirm(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            request.session.pop(ENROL_SESSION_KEY, None)
            otp_login(request, device)
            # Rendered, not redirected: the codes are in this one answer only.
            return render(
                request,
                "accounts/two_factor/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False)
    return render(
        request,
        "accounts/two_factor/enrol.html",
        {
            "form": form,
            "qr_svg": qr,
            "secret": _base32(device.bin_key),
            "required": two_factor_required(user, getattr(request, "tenant", None)),
            "next": _next_url(request),
        },
    )


def _base32(key: bytes) -> str:
    """The secret as apps take it when typed in: base32 without padding."""
    return b32encode(key).decode().rstrip("=")


@signed_in
def overview(request):
    """The signed-in user's own second factor: on or off, and the way to change it."""
    return render(
        request,
        "accounts/two_factor/overview.html",
        {
            "enabled": user_has_two_factor(request.user),
            "required": two_factor_required(request.user, getattr(request, "tenant", None)),
        },
    )


@signed_in
@require_POST
def disable(request):
    try:
        services.two_factor_disable(user=request.user, tenant=getattr(request, "tenant", None))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("two_factor:overview")


class RequirementView(PermissionRequiredMixin, FormView):
    """A tenant admin's switch: require a second factor of every admin."""

    permission_required = "accounts.change_user"
    template_name = "accounts/two_factor/requirement.html"
    form_class = RequirementForm

    def dispatch(self, request, *args, **kwargs):
        if getattr(request, "tenant", None) is None or request.tenant.is_public:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"required": tenant_requires_two_factor(self.request.tenant)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            available=limits.has_feature(self.request.tenant, Feature.REQUIRE_TWO_FACTOR),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            services.tenant_two_factor_requirement_set(
                tenant=self.request.tenant,
                required=form.cleaned_data["required"],
                by=self.request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return redirect("two_factor:requirement")
