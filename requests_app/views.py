"""
Staff pages for requests, and the public page an asset's QR code opens to
report a problem: thin, everything is decided in services and selectors.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_POST

from assets import selectors as asset_selectors
from assets.models import Asset
from attachments import selectors as attachment_selectors
from attachments import services as attachment_services
from attachments.content import ALLOWED_DESCRIPTION, MAX_ATTACHMENT_SIZE
from attachments.downloads import attachment_response
from attachments.models import Attachment
from requests_app import panels, selectors, services
from requests_app.filters import request_order
from requests_app.forms import (
    AttachmentForm,
    BulkAssignForm,
    CommentForm,
    ProblemReportForm,
    RequestCreateForm,
    RequestEditForm,
    RequestListFilter,
    TransitionForm,
    details_forms,
)
from requests_app.models import MaintenanceRequest, Priority, Status
from requests_app.throttles import AssetReportRateThrottle
from smartmaintenance.forms import add_service_error

REQUESTS_PER_PAGE = 25
DEFAULT_ORDERING = "-created"
# Sortable columns: (field, the direction of a first click).
SORTABLE = {"number": "-", "priority": "-", "status": "", "due_at": "", "created": "-"}

# A transition's button says what the user does, not where the request ends up.
ACTION_LABELS = {
    Status.TRIAGED: "Triage",
    Status.ASSIGNED: "Assign",
    Status.IN_PROGRESS: "Start work",
    Status.ON_HOLD: "Put on hold",
    Status.RESOLVED: "Resolve",
    Status.CLOSED: "Close",
    Status.REOPENED: "Reopen",
    Status.CANCELLED: "Cancel",
}
ACTION_STYLES = {
    Status.RESOLVED: "btn-success",
    Status.CANCELLED: "btn-outline-danger",
    Status.ON_HOLD: "btn-outline-secondary",
    Status.REOPENED: "btn-outline-primary",
}


def _visible_or_404(user, pk):
    try:
        return selectors.request_get_visible(user, pk)
    except MaintenanceRequest.DoesNotExist:
        raise Http404("No such request.") from None


def _safe_next(request, url):
    """``url`` if it points back into this site, else the list page."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("requests_app:list")


# --- The list ---------------------------------------------------------------------


def _sort_columns(ordering: str) -> dict:
    """Per sortable column: the ``ordering`` its header links to and its aria-sort."""
    columns = {}
    for field, first in SORTABLE.items():
        if ordering.lstrip("-") == field:
            descending = ordering.startswith("-")
            columns[field] = {
                "ordering": field if descending else f"-{field}",
                "aria_sort": "descending" if descending else "ascending",
            }
        else:
            columns[field] = {"ordering": f"{first}{field}", "aria_sort": "none"}
    return columns


@login_required
def request_list(request):
    """
    The requests the user may see: the API's filters, search and ordering,
    25 a page, all in the query string. An htmx request from the filter
    form gets only the results.
    """
    user = request.user
    technicians = list(selectors.technician_list().order_by("full_name", "email"))
    filterset = RequestListFilter(
        request.GET or None,
        queryset=selectors.request_list_visible_to(user),
        technicians=technicians,
        assets=Asset.objects.order_by("name", "pk"),
    )
    valid = not filterset.is_bound or filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    ordering = request.GET.get("ordering", "")
    if ordering.lstrip("-") not in SORTABLE:
        ordering = DEFAULT_ORDERING
    rows = selectors.requests_flag_overdue(request_order(rows, [ordering]), timezone.now())
    page = Paginator(rows, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    is_lead = selectors.user_is_lead(user)
    context = {
        "nav": "requests",
        "filter_fields": [filterset.form[name] for name in RequestListFilter.WEB_FIELDS],
        "filters_valid": valid,
        "filtered": any(request.GET.get(name) for name in RequestListFilter.WEB_FIELDS),
        "page": page,
        "page_numbers": page.paginator.get_elided_page_range(
            page.number, on_each_side=1, on_ends=1
        ),
        "columns": _sort_columns(ordering),
        "ordering": ordering,
        "may_file": selectors.user_may_file_requests(user),
        "may_bulk_assign": is_lead,
        "technicians": technicians if is_lead else [],
    }
    if request.htmx and request.htmx.target == "request-results":
        # The sort order lives in the filter form too: replaced out of band.
        return render(request, "requests_app/_request_results.html", {**context, "oob": True})
    return render(request, "requests_app/request_list.html", context)


@login_required
@require_POST
def request_bulk_assign(request):
    """Assign the ticked requests to one technician: all of them, or none and why."""
    form = BulkAssignForm(request.POST, technicians=selectors.technician_list())
    back = _safe_next(request, request.POST.get("next"))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    ids = form.cleaned_data["requests"]
    chosen = selectors.request_list_chosen(request.user, ids)
    if len(chosen) != len(ids):
        messages.error(request, "Some of the ticked requests are not there any more.")
        return redirect(back)
    assignee = form.cleaned_data["assignee"]
    try:
        services.requests_assign(
            requests=chosen, assignee=assignee, by=request.user, note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        messages.error(request, "Nothing was assigned. " + " ".join(error.messages))
    else:
        count = len(chosen)
        noun = "request" if count == 1 else "requests"
        messages.success(request, f"{count} {noun} assigned to {assignee}.")
    return redirect(back)


# --- Filing and editing -------------------------------------------------------------


def _add_request_errors(form, details_form, error: ValidationError) -> None:
    """A service's refusal on the form: a refused detail on its own field."""
    if isinstance(error, services.DetailsRefused):
        for name, field_messages in error.message_dict.items():
            if details_form is not None and name in details_form.fields:
                details_form.add_error(name, field_messages)
            else:
                form.add_error(None, field_messages)
    else:
        add_service_error(form, error)


def _form_page(request, template, form, details, current_type, **context):
    return render(
        request,
        template,
        {
            "nav": "requests",
            "form": form,
            "details_forms": details,
            "current_type": current_type,
            **context,
        },
    )


@login_required
def request_create(request):
    """File a request; the chosen type's details fieldset is the one read."""
    if not selectors.user_may_file_requests(request.user):
        raise PermissionDenied("You may not file requests.")
    data = request.POST if request.method == "POST" else None
    form = RequestCreateForm(data, initial={"asset": request.GET.get("asset")})
    details = details_forms(data)
    current_type = form["type"].value()
    if data is not None:
        details_form = details.get(current_type)
        valid = form.is_valid()
        if details_form is not None and not details_form.is_valid():
            valid = False
        if valid:
            try:
                created = services.request_create(
                    requester=request.user,
                    details=details_form.details() if details_form is not None else None,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_request_errors(form, details_form, error)
            else:
                messages.success(request, f"{created.reference} filed.")
                return redirect("requests_app:detail", pk=created.pk)
    return _form_page(
        request,
        "requests_app/request_form.html",
        form,
        details,
        current_type,
        crumbs=[("Requests", reverse("requests_app:list")), ("New request", "")],
    )


@login_required
def request_edit(request, pk):
    """Change a request: leads at any time, its requester while it is new (as the API's PATCH)."""
    maintenance_request = _visible_or_404(request.user, pk)
    if not services.request_may_edit(maintenance_request, request.user):
        raise PermissionDenied("You may not edit this request.")
    data = request.POST if request.method == "POST" else None
    form = RequestEditForm(
        data,
        initial={
            "title": maintenance_request.title,
            "description": maintenance_request.description,
            "priority": maintenance_request.priority,
            "asset": maintenance_request.asset_id,
            "location": maintenance_request.location_id,
        },
    )
    details = details_forms(data, request=maintenance_request, only_type=maintenance_request.type)
    details_form = details.get(maintenance_request.type)
    if data is not None:
        valid = form.is_valid()
        if details_form is not None and not details_form.is_valid():
            valid = False
        if valid:
            try:
                services.request_update(
                    request=maintenance_request,
                    by=request.user,
                    details=details_form.details() if details_form is not None else None,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_request_errors(form, details_form, error)
            else:
                messages.success(request, f"{maintenance_request.reference} saved.")
                return redirect("requests_app:detail", pk=pk)
    return _form_page(
        request,
        "requests_app/request_edit.html",
        form,
        details,
        maintenance_request.type,
        maintenance_request=maintenance_request,
        crumbs=[
            ("Requests", reverse("requests_app:list")),
            (maintenance_request.reference, reverse("requests_app:detail", args=[pk])),
            ("Edit", ""),
        ],
    )


# --- One request ------------------------------------------------------------------


def _change_display(field: str, value: str) -> str:
    """An audited value as people read it: labels for choices, local times."""
    if not value:
        return ""
    if field == "priority" and value in Priority.values:
        return Priority(value).label
    if field == "due_at":
        try:
            return date_format(timezone.localtime(datetime.fromisoformat(value)), "j M Y H:i")
        except ValueError:
            return value
    return value


def _history_rows(maintenance_request) -> list[dict]:
    """
    The request's history for the page: each step with its statuses'
    labels, each changed field (its status changes are the steps already).
    """
    rows = []
    for entry in selectors.request_history(maintenance_request):
        row = {"kind": entry.kind, "at": entry.at, "by": entry.by}
        if entry.kind == "transition":
            row.update(
                from_status=entry.from_status,
                from_label=Status(entry.from_status).label if entry.from_status else "",
                to_label=Status(entry.to_status).label,
                note=entry.note,
            )
        elif entry.field == "status":
            continue
        else:
            row.update(
                field_label=entry.field.removeprefix("details.").replace("_", " ").capitalize(),
                old_display=_change_display(entry.field, entry.old_value),
                new_display=_change_display(entry.field, entry.new_value),
            )
        rows.append(row)
    return rows


def _comments_context(maintenance_request, form=None) -> dict:
    return {
        "maintenance_request": maintenance_request,
        "comments": selectors.request_comments(maintenance_request),
        "comment_form": form or CommentForm(),
    }


def _attachments_context(maintenance_request, user, form=None) -> dict:
    return {
        "maintenance_request": maintenance_request,
        "attachments": attachment_selectors.attachment_list(maintenance_request),
        "attachment_form": form or AttachmentForm(),
        "max_attachment_size": MAX_ATTACHMENT_SIZE,
        "allowed_attachments": ALLOWED_DESCRIPTION,
        "may_delete_any_attachment": selectors.user_is_lead(user),
    }


@login_required
def request_detail(request, pk):
    user = request.user
    maintenance_request = _visible_or_404(user, pk)
    allowed = services.request_allowed_transitions(maintenance_request, user)
    actions = [
        {
            "status": status,
            "label": ACTION_LABELS[status],
            "style": ACTION_STYLES.get(status, "btn-primary"),
        }
        for status in allowed
        if status != Status.ASSIGNED
    ]
    return render(
        request,
        "requests_app/request_detail.html",
        {
            "nav": "requests",
            "actions": actions,
            "may_assign": Status.ASSIGNED in allowed,
            "technicians": selectors.technician_list().order_by("full_name", "email")
            if Status.ASSIGNED in allowed
            else [],
            "may_edit": services.request_may_edit(maintenance_request, user),
            "history": _history_rows(maintenance_request),
            "crumbs": [
                ("Requests", reverse("requests_app:list")),
                (maintenance_request.reference, ""),
            ],
            "panels": panels.request_panels(maintenance_request, user),
            **_comments_context(maintenance_request),
            **_attachments_context(maintenance_request, user),
        },
    )


@login_required
@require_POST
def request_transition(request, pk):
    maintenance_request = _visible_or_404(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the request.")
        return redirect("requests_app:detail", pk=pk)
    to_status = form.cleaned_data["to_status"]
    assignee = None
    # One form holds every action and the technician picker: only Assign reads it.
    if to_status == Status.ASSIGNED:
        assignee = selectors.assignee_get(form.cleaned_data["assignee"])
    try:
        services.request_transition(
            request=maintenance_request,
            to_status=to_status,
            by=request.user,
            note=form.cleaned_data["note"],
            assignee=assignee,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{maintenance_request.reference} is now {Status(to_status).label.lower()}."
        )
    return redirect("requests_app:detail", pk=pk)


@login_required
@require_POST
def request_comment(request, pk):
    """Add a comment; an htmx post gets the comments back, with the form's errors."""
    maintenance_request = _visible_or_404(request.user, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.request_comment_create(
                request=maintenance_request, author=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            form = None  # a fresh, empty form
    if request.htmx:
        return render(
            request, "requests_app/_comments.html", _comments_context(maintenance_request, form)
        )
    if form is not None:
        messages.error(
            request, " ".join(message for errors in form.errors.values() for message in errors)
        )
    return redirect("requests_app:detail", pk=pk)


def _attachments_answer(request, maintenance_request, form=None, notice=""):
    """
    The attachments fragment (with the form's errors and ``notice``) for
    htmx; otherwise back to the request's page, with them as messages.
    """
    if request.htmx:
        context = _attachments_context(maintenance_request, request.user, form)
        return render(request, "requests_app/_attachments.html", {**context, "notice": notice})
    if form is not None and form.errors:
        messages.error(request, " ".join(form.errors["file"]))
    elif notice:
        messages.success(request, notice)
    return redirect("requests_app:detail", pk=maintenance_request.pk)


@login_required
@require_POST
def request_attachment_upload(request, pk):
    maintenance_request = _visible_or_404(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _attachments_answer(request, maintenance_request, form)
    try:
        attachment = attachment_services.attachment_create(
            file=form.cleaned_data["file"], uploaded_by=request.user, request=maintenance_request
        )
    except ValidationError as error:
        form.add_error("file", error.messages)
        return _attachments_answer(request, maintenance_request, form)
    return _attachments_answer(
        request, maintenance_request, notice=f"{attachment.original_name} attached."
    )


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
        notice, level = " ".join(error.messages), messages.ERROR
    else:
        notice, level = f"{attachment.original_name} deleted.", messages.SUCCESS
    if attachment.request_id and request.htmx:
        maintenance_request = _visible_or_404(request.user, attachment.request_id)
        return _attachments_answer(request, maintenance_request, notice=notice)
    messages.add_message(request, level, notice)
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
