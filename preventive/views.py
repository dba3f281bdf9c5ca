"""
Staff pages for preventive-maintenance schedules: list, detail with the
upcoming dates and the requests filed, create, edit, pause and resume.
Thin: reads from preventive.selectors, writes through preventive.services,
permissions are the model permissions of the roles (admins and managers).
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from preventive import selectors, services
from preventive.forms import ScheduleForm
from preventive.models import MaintenanceSchedule
from smartmaintenance.forms import ServiceFormMixin

STATUS_FILTERS = {"active": True, "paused": False, "all": None}


class PlanFeatureMixin:
    """Schedule pages need the plan feature: without it, a page saying so (403)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not selectors.preventive_in_plan():
            return TemplateResponse(
                request, "preventive/not_in_plan.html", {"nav": "schedules"}, status=403
            )
        return super().dispatch(request, *args, **kwargs)


class ScheduleMixin:
    """Loads ``self.schedule`` from the URL (404 for an unknown one)."""

    def dispatch(self, request, *args, **kwargs):
        try:
            self.schedule = selectors.schedule_get(pk=kwargs["pk"])
        except MaintenanceSchedule.DoesNotExist:
            raise Http404("No such schedule.") from None
        return super().dispatch(request, *args, **kwargs)


class ScheduleListView(PermissionRequiredMixin, PlanFeatureMixin, TemplateView):
    permission_required = "preventive.view_maintenanceschedule"
    template_name = "preventive/schedule_list.html"
    page_size = 25

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "active")
        if status not in STATUS_FILTERS:
            status = "active"
        schedules = selectors.schedule_list_for_pages(active=STATUS_FILTERS[status])
        page = Paginator(schedules, self.page_size).get_page(self.request.GET.get("page"))
        today = selectors.tenant_today()
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            nav="schedules",
            page=page,
            rows=[(schedule, selectors.schedule_next_due(schedule, today)) for schedule in page],
            status=status,
            statuses=[("active", _("Active")), ("paused", _("Paused")), ("all", _("All"))],
            query=query.urlencode(),
            **kwargs,
        )


class ScheduleDetailView(PermissionRequiredMixin, PlanFeatureMixin, ScheduleMixin, TemplateView):
    permission_required = "preventive.view_maintenanceschedule"
    template_name = "preventive/schedule_detail.html"

    def get_context_data(self, **kwargs):
        today = selectors.tenant_today()
        return super().get_context_data(
            nav="schedules",
            schedule=self.schedule,
            steps=list(self.schedule.steps.all()),
            upcoming=selectors.schedule_upcoming(self.schedule, today=today)
            if self.schedule.active
            else [],
            occurrences=selectors.occurrence_recent(schedule=self.schedule),
            today=today,
            **kwargs,
        )


class ScheduleCreateView(PermissionRequiredMixin, PlanFeatureMixin, ServiceFormMixin, FormView):
    permission_required = "preventive.add_maintenanceschedule"
    template_name = "preventive/schedule_form.html"
    form_class = ScheduleForm

    def get_initial(self):
        initial = {"interval": 1, "starts_on": selectors.tenant_today()}
        asset = self.request.GET.get("asset")
        if asset and asset.isdigit():
            initial["asset"] = int(asset)
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav="schedules", **kwargs)

    def form_save(self, form):
        return services.schedule_create(
            asset=form.cleaned_data["asset"],
            steps=form.cleaned_data["steps"],
            **form.service_fields(),
        )

    def success_message(self, schedule):
        return _("Schedule “%(title)s” created.") % {"title": schedule.title}

    def success_redirect(self, schedule):
        return reverse("preventive:schedule_detail", args=[schedule.pk])


class ScheduleUpdateView(
    PermissionRequiredMixin, PlanFeatureMixin, ScheduleMixin, ServiceFormMixin, FormView
):
    permission_required = "preventive.change_maintenanceschedule"
    template_name = "preventive/schedule_form.html"
    form_class = ScheduleForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.schedule}

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav="schedules", schedule=self.schedule, **kwargs)

    def form_save(self, form):
        return services.schedule_update(
            schedule=self.schedule, data=form.service_fields(), steps=form.cleaned_data["steps"]
        )

    def success_message(self, schedule):
        return _("Schedule “%(title)s” saved.") % {"title": schedule.title}

    def success_redirect(self, schedule):
        return reverse("preventive:schedule_detail", args=[schedule.pk])


class SchedulePauseView(PermissionRequiredMixin, PlanFeatureMixin, ScheduleMixin, View):
    """Pause (``resume=False``) or resume a schedule; POST only."""

    permission_required = "preventive.change_maintenanceschedule"
    http_method_names = ["post"]
    resume = False

    def post(self, request, pk):
        try:
            if self.resume:
                services.schedule_resume(schedule=self.schedule)
                messages.success(request, _("Schedule resumed: requests are filed from today on."))
            else:
                services.schedule_pause(schedule=self.schedule)
                messages.success(
                    request, _("Schedule paused: no requests are filed until resumed.")
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("preventive:schedule_detail", pk=pk)
