from datetime import timedelta

from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Maintenance requests"

    def ready(self):
        # Imported here, not at the top: models load only once apps are ready.
        from assets.panels import asset_panel_register
        from attachments import visibility
        from billing.limits import Resource, usage_counter_register
        from requests_app.asset_panel import asset_requests_panel
        from requests_app.selectors import request_count_this_month, request_is_visible_to
        from tenants.jobs import job_register_daily, job_register_every

        # A request's files: whoever may see the request.
        visibility.register("request", request_is_visible_to)
        usage_counter_register(Resource.REQUESTS, request_count_this_month)
        asset_panel_register(
            "requests",
            template="assets/panels/requests.html",
            context=asset_requests_panel,
            order=10,
        )
        job_register_daily(
            "requests.close_resolved",
            task="requests_app.tasks.requests_close_resolved",
            local_hour=2,
        )
        # Breaches are worth knowing within minutes, not the next morning.
        job_register_every(
            "requests.sla_breaches",
            task="requests_app.tasks.requests_notify_sla_breaches",
            every=timedelta(minutes=15),
        )
