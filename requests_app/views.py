"""
Staff pages for requests, and the public page an asset's QR code opens to
report a problem: thin, everything is decided in services and selectors.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View
from django.views.decorators.http import require_POST

from assets import selectors as asset_selectors
from attachments import selectors as attachment_selectors
from attachments import services as attachment_services
from attachments.content import ALLOWED_DESCRIPTION, MAX_ATTACHMENT_SIZE
from attachments.downloads import attachment_response
from attachments.models import Attachment
from requests_app import selectors, services
from requests_app.forms import CommentForm, ProblemReportForm, RequestCreateForm, TransitionForm
from requests_app.models import MaintenanceRequest, Status
from requests_app.throttles import AssetReportRateThrottle
from smartmaintenance.forms import add_service_error


def _visible_or_404(user, pk):
    try:
        return selectors.request_get_visible(user, pk)
    except MaintenanceRequest.DoesNotExist:
        raise Http404("No such request.") from None


@login_required
def request_list(request):
    requests = selectors.request_list_visible_to(request.user)[:200]
    return render(request, "requests_app/request_list.html", {"requests": requests})


@login_required
def request_create(request):
    form = RequestCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(requester=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{created.reference} filed.")
            return redirect("requests_app:detail", pk=created.pk)
    return render(request, "requests_app/request_form.html", {"form": form})


@login_required
def request_detail(request, pk):
    maintenance_request = _visible_or_404(request.user, pk)
    return render(
        request,
        "requests_app/request_detail.html",
        {
            "maintenance_request": maintenance_request,
            "allowed": [
                (status, Status(status).label)
                for status in services.request_allowed_transitions(
                    maintenance_request, request.user
                )
            ],
            "technicians": selectors.technician_list(),
            "transitions": selectors.request_transitions(maintenance_request),
            "comments": selectors.request_comments(maintenance_request),
            "comment_form": CommentForm(),
            "attachments": attachment_selectors.attachment_list(maintenance_request),
            "max_attachment_size": MAX_ATTACHMENT_SIZE,
            "allowed_attachments": ALLOWED_DESCRIPTION,
            "may_delete_any_attachment": selectors.user_is_lead(request.user),
        },
    )


@login_required
@require_POST
def request_transition(request, pk):
    maintenance_request = _visible_or_404(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return redirect("requests_app:detail", pk=pk)
    assignee = None
    if form.cleaned_data["assignee"]:
        assignee = selectors.assignee_get(form.cleaned_data["assignee"])
    try:
        services.request_transition(
            request=maintenance_request,
            to_status=form.cleaned_data["to_status"],
            by=request.user,
            note=form.cleaned_data["note"],
            assignee=assignee,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("requests_app:detail", pk=pk)


@login_required
@require_POST
def request_comment(request, pk):
    maintenance_request = _visible_or_404(request.user, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.request_comment_create(
                request=maintenance_request, author=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, "Write a comment first.")
    return redirect("requests_app:detail", pk=pk)


@login_required
@require_POST
def request_attachment_upload(request, pk):
    maintenance_request = _visible_or_404(request.user, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a file to attach.")
        return redirect("requests_app:detail", pk=pk)
    try:
        attachment = attachment_services.attachment_create(
            file=upload, uploaded_by=request.user, request=maintenance_request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{attachment.original_name} attached.")
    return redirect("requests_app:detail", pk=pk)


@login_required
def attachment_download(request, pk):
    """
    Send an attachment the user may see, always as a download under its
    original name: never inline, so an upload can never run as a page of
    this site (nosniff comes from SecurityMiddleware; the CSP is a second lock).
    """
    try:
        attachment = attachment_selectors.attachment_get_visible(request.user, pk)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment.") from None
    return attachment_response(attachment)


@login_required
@require_POST
def attachment_delete(request, pk):
    try:
        attachment = attachment_selectors.attachment_get_visible(request.user, pk)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment.") from None
    try:
        attachment_services.attachment_delete(attachment=attachment, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{attachment.original_name} deleted.")
    if attachment.request_id:
        return redirect("requests_app:detail", pk=attachment.request_id)
    return redirect("assets:detail", pk=attachment.asset_id)


# --- Public: report a problem about an asset -------------------------------------


class AssetReportView(View):
    """
    The page an asset's QR code opens, for anyone, without logging in: it
    files a maintenance request against the asset. Guarded by the secret
    token in the URL, a honeypot field and a per-address rate limit.
    """

    template_name = "requests_app/report.html"

    def dispatch(self, request, *args, **kwargs):
        self.asset = asset_selectors.asset_get_by_report_token(token=kwargs["token"])
        response = super().dispatch(request, *args, **kwargs)
        # The URL is a capability: keep it out of search engines.
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def render(self, form, status=200, sent=False):
        context = {
            "asset": self.asset,
            "location": asset_selectors.location_path_display(self.asset.location),
            "form": form,
            "sent": sent,
            "retired": self.asset.status == self.asset.Status.RETIRED,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, token):
        return self.render(ProblemReportForm(), sent="sent" in request.GET)

    def post(self, request, token):
        throttle = AssetReportRateThrottle()
        if not throttle.allow_request(request, self):
            response = render(
                request, "requests_app/report_throttled.html", {"asset": self.asset}, status=429
            )
            response["Retry-After"] = str(int(throttle.wait() or 60))
            return response
        form = ProblemReportForm(request.POST)
        if form.is_valid():
            try:
                services.request_report_problem(asset=self.asset, **form.cleaned_data_for_service())
            except ValidationError as error:
                add_service_error(form, error)
            else:
                return redirect(f"{request.path}?sent=1")
        return self.render(form, status=400)
