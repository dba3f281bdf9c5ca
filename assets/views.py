"""
Asset and location pages: staff pages (login and Django permissions) and the
QR codes that open the public "report a problem" page (which is
requests_app's: it files a request). Thin: they parse input with forms and
call assets.selectors and assets.services.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.html import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts.selectors import user_is_lead
from assets import selectors, services
from assets.forms import AssetForm, AttachmentForm, LabelSheetForm, LocationForm
from assets.panels import asset_panels
from assets.qr import qr_png, qr_svg, qr_svg_inline
from attachments import selectors as attachment_selectors
from attachments import services as attachment_services
from attachments.content import ALLOWED_DESCRIPTION, MAX_ATTACHMENT_SIZE
from smartmaintenance.forms import ServiceFormMixin


def report_url(request, asset) -> str:
    """The absolute URL a QR code encodes: this tenant's host, the asset's secret token."""
    return request.build_absolute_uri(asset.get_report_path())


# --- Staff: assets -------------------------------------------------------------


class AssetListView(PermissionRequiredMixin, TemplateView):
    """Filters and the page number stay in the query string, so a filtered list can be shared."""

    permission_required = "assets.view_asset"
    template_name = "assets/asset_list.html"
    page_size = 25

    def get_context_data(self, **kwargs):
        filterset = selectors.AssetFilter(self.request.GET or None, queryset=selectors.asset_list())
        page = Paginator(filterset.qs, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            nav="assets",
            filter_form=filterset.form,
            categories=selectors.asset_categories(),
            filtered=any(value for key, value in query.items()),
            page=page,
            query=query.urlencode(),
            **kwargs,
        )


class AssetDetailView(PermissionRequiredMixin, TemplateView):
    permission_required = "assets.view_asset"
    template_name = "assets/asset_detail.html"

    def get_context_data(self, **kwargs):
        asset = selectors.asset_get(pk=self.kwargs["pk"])
        kwargs.setdefault("attachment_form", AttachmentForm())
        return super().get_context_data(
            nav="assets",
            asset=asset,
            panels=asset_panels(asset, self.request.user),
            location_path=selectors.location_path(asset.location) if asset.location else [],
            components=asset.components.order_by("name"),
            changes=selectors.asset_changes(asset=asset)[:100],
            report_url=report_url(self.request, asset),
            # Downloads and deletes go through requests_app's attachment views,
            # which serve every stored file with attachments.downloads.
            attachments=attachment_selectors.attachment_list(asset),
            max_attachment_size=MAX_ATTACHMENT_SIZE,
            allowed_attachments=ALLOWED_DESCRIPTION,
            may_delete_any_attachment=user_is_lead(self.request.user),
            **kwargs,
        )


class AssetAttachmentUploadView(AssetDetailView):
    """
    Attach a file to an asset. Whoever may see the asset may attach to it, as
    whoever sees a request may attach to that (``attachment_create`` checks
    again). A rejected file re-renders the asset page with the form's error.
    """

    http_method_names = ["post"]

    def post(self, request, pk):
        asset = selectors.asset_get(pk=pk)
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                attachment = attachment_services.attachment_create(
                    file=form.cleaned_data["file"], uploaded_by=request.user, asset=asset
                )
            except ValidationError as error:
                form.add_error("file", error.messages)
            else:
                messages.success(
                    request, _("%(name)s attached.") % {"name": attachment.original_name}
                )
                return redirect(asset)
        return self.render_to_response(self.get_context_data(attachment_form=form), status=400)


class AssetFormMixin(PermissionRequiredMixin):
    form_class = AssetForm
    template_name = "assets/asset_form.html"

    def success_redirect(self, asset):
        return asset

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            nav="assets", categories=selectors.asset_categories(), **kwargs
        )


class AssetCreateView(AssetFormMixin, ServiceFormMixin, FormView):
    permission_required = "assets.add_asset"

    def form_save(self, form):
        data = {
            name: value for name, value in form.cleaned_data.items() if value not in (None, False)
        }
        return services.asset_create(user=self.request.user, **data)

    def success_message(self, asset):
        return _("Asset %(asset)s created.") % {"asset": asset}


class AssetUpdateView(AssetFormMixin, ServiceFormMixin, FormView):
    permission_required = "assets.change_asset"

    def dispatch(self, request, *args, **kwargs):
        self.asset = selectors.asset_get(pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.asset}

    def get_context_data(self, **kwargs):
        return super().get_context_data(asset=self.asset, **kwargs)

    def form_save(self, form):
        return services.asset_update(
            asset=self.asset, user=self.request.user, data=form.service_data()
        )

    def success_message(self, asset):
        return _("Asset %(asset)s saved.") % {"asset": asset}


class AssetRetireView(PermissionRequiredMixin, View):
    permission_required = "assets.change_asset"
    http_method_names = ["post"]

    def post(self, request, pk):
        asset = selectors.asset_get(pk=pk)
        try:
            services.asset_retire(asset=asset, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Asset %(asset)s retired.") % {"asset": asset})
        return redirect(asset)


class AssetQRCodeView(PermissionRequiredMixin, View):
    """The asset's QR code as SVG (to print) or PNG (for label printers)."""

    permission_required = "assets.view_asset"
    formats = {"svg": ("image/svg+xml", qr_svg), "png": ("image/png", qr_png)}

    def get(self, request, pk, format):
        asset = selectors.asset_get(pk=pk)
        content_type, render_qr = self.formats[format]
        response = HttpResponse(render_qr(report_url(request, asset)), content_type=content_type)
        if "download" in request.GET:
            response["Content-Disposition"] = (
                f'attachment; filename="{asset.asset_tag}-qr.{format}"'
            )
        return response


class AssetPhotoView(PermissionRequiredMixin, View):
    """
    An asset's photo, for whoever may see the asset (the rule attachments
    apply to the asset's files, ``selectors.asset_is_visible_to``). Uploads
    are not served from MEDIA_URL: this view is the only way out, with the
    same locks as attachment downloads (nosniff, a sandboxing CSP).
    """

    permission_required = "assets.view_asset"

    def get(self, request, pk):
        asset = selectors.asset_get(pk=pk)
        if not asset.photo or not selectors.asset_is_visible_to(asset, request.user):
            raise Http404("No photo.")
        try:
            photo = asset.photo.open("rb")
        except FileNotFoundError:
            raise Http404("No photo.") from None
        # Pillow checked it is an image on upload (ImageField); the browser
        # still gets no say in what it is (nosniff).
        response = FileResponse(photo, filename=asset.photo.name.rsplit("/", 1)[-1])
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=300"
        return response


class AssetLabelSheetView(PermissionRequiredMixin, TemplateView):
    """
    QR labels of the assets ticked on the list, to print on A4 label sheets
    (3 by 7 labels of 63.5 by 38.1 mm a page; static/css/labels.css).
    """

    permission_required = "assets.view_asset"
    template_name = "assets/label_sheet.html"

    def get(self, request, *args, **kwargs):
        form = LabelSheetForm(request.GET)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("asset", [])) or _("Choose assets."))
            return redirect("assets:list")
        labels = [
            {
                "asset": asset,
                # segno's SVG: our own markup around the URL it escapes.
                "qr": mark_safe(  # noqa: S308
                    qr_svg_inline(report_url(request, asset), title=_("QR code of %s") % asset)
                ),
            }
            for asset in selectors.asset_list_by_ids(form.cleaned_data["asset"])
        ]
        return self.render_to_response(self.get_context_data(nav="assets", labels=labels))


# --- Staff: locations ----------------------------------------------------------


class LocationListView(PermissionRequiredMixin, TemplateView):
    permission_required = "assets.view_location"
    template_name = "assets/location_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav="assets", locations=selectors.location_tree(), **kwargs)


class LocationCreateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "assets.add_location"
    form_class = LocationForm
    template_name = "assets/location_form.html"
    redirect_to = "assets:location_list"

    def get_initial(self):
        return {"parent": self.request.GET.get("parent")}

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav="assets", **kwargs)

    def form_save(self, form):
        return services.location_create(**form.cleaned_data)

    def success_message(self, location):
        return _("Location %(location)s created.") % {"location": location}


class LocationUpdateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "assets.change_location"
    form_class = LocationForm
    template_name = "assets/location_form.html"
    redirect_to = "assets:location_list"

    def dispatch(self, request, *args, **kwargs):
        self.location = selectors.location_get(pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.location}

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav="assets", location=self.location, **kwargs)

    def form_save(self, form):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        return services.location_update(location=self.location, data=data)

    def success_message(self, location):
        return _("Location %(location)s saved.") % {"location": location}
