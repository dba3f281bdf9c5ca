"""
The tenant admins' webhook pages under /settings/webhooks/.

Guarded by services.webhook_may_manage (the app's own permission, which the
built-in Admin role holds) and by the plan: without the webhooks feature
every page explains that instead. Every write is a service.
"""

import json

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import FormView, TemplateView

from billing import limits
from billing.plans import Feature
from smartmaintenance.forms import add_service_error
from webhooks import selectors, services
from webhooks.forms import EndpointForm
from webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookAdminMixin(LoginRequiredMixin):
    """Admins only (403 otherwise); a plan without webhooks gets a page saying so."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not services.webhook_may_manage(request.user):
            raise PermissionDenied
        try:
            limits.require_feature(request.tenant, Feature.WEBHOOKS)
        except limits.FeatureNotInPlan as error:
            return render(
                request, "webhooks/unavailable.html", {"message": error.messages[0]}, status=403
            )
        self.load_object(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def load_object(self, **kwargs):
        """Fetch the page's object, once the user may see it (no 404 hints to others)."""


class EndpointListView(WebhookAdminMixin, TemplateView):
    template_name = "webhooks/endpoint_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoints=selectors.endpoint_list(), **kwargs)


class EndpointCreateView(WebhookAdminMixin, FormView):
    template_name = "webhooks/endpoint_form.html"
    form_class = EndpointForm

    def form_valid(self, form):
        try:
            endpoint = services.endpoint_create(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "Webhook created. Copy its signing secret below.")
        return redirect("webhooks:endpoint_detail", endpoint.pk)


class EndpointMixin(WebhookAdminMixin):
    def load_object(self, **kwargs):
        self.endpoint = get_object_or_404(WebhookEndpoint, pk=kwargs["pk"])


class EndpointDetailView(EndpointMixin, TemplateView):
    template_name = "webhooks/endpoint_detail.html"

    def get_context_data(self, **kwargs):
        deliveries = selectors.delivery_list(endpoint=self.endpoint)[: selectors.RECENT_DELIVERIES]
        return super().get_context_data(endpoint=self.endpoint, deliveries=deliveries, **kwargs)


class EndpointUpdateView(EndpointMixin, FormView):
    template_name = "webhooks/endpoint_form.html"
    form_class = EndpointForm

    def get_initial(self):
        return {field: getattr(self.endpoint, field) for field in services.ENDPOINT_FIELDS}

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoint=self.endpoint, **kwargs)

    def form_valid(self, form):
        try:
            services.endpoint_update(
                endpoint=self.endpoint, by=self.request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "Webhook saved.")
        return redirect("webhooks:endpoint_detail", self.endpoint.pk)


class EndpointDeleteView(EndpointMixin, TemplateView):
    template_name = "webhooks/endpoint_confirm_delete.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoint=self.endpoint, **kwargs)

    def post(self, request, *args, **kwargs):
        services.endpoint_delete(endpoint=self.endpoint, by=request.user)
        messages.success(request, "Webhook deleted.")
        return redirect("webhooks:endpoint_list")


class EndpointRotateSecretView(EndpointMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        services.endpoint_rotate_secret(endpoint=self.endpoint, by=request.user)
        messages.success(
            request, "New signing secret made: update your receiver, the old one is void."
        )
        return redirect("webhooks:endpoint_detail", self.endpoint.pk)


class DeliveryMixin(WebhookAdminMixin):
    def load_object(self, **kwargs):
        self.delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("endpoint"), pk=kwargs["pk"]
        )


class DeliveryDetailView(DeliveryMixin, TemplateView):
    template_name = "webhooks/delivery_detail.html"

    def get_context_data(self, **kwargs):
        payload_json = json.dumps(self.delivery.payload, indent=2, ensure_ascii=False)
        return super().get_context_data(delivery=self.delivery, payload_json=payload_json, **kwargs)


class DeliveryReplayView(DeliveryMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            replay = services.delivery_replay(delivery=self.delivery, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("webhooks:endpoint_detail", self.delivery.endpoint_id)
        messages.success(request, "Replay queued as a new delivery.")
        return redirect("webhooks:delivery_detail", replay.pk)
