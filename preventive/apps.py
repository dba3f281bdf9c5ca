from django.apps import AppConfig


class PreventiveConfig(AppConfig):
    name = "preventive"
    verbose_name = "Preventive maintenance"

    def ready(self):
        from assets.panels import asset_panel_register
        from preventive.asset_panel import asset_schedules_panel
        from preventive.checklist_views import checklist_panel
        from requests_app.panels import request_panel_register
        from tenants.jobs import job_register_daily

        # A generated request's page shows its checklist, tickable there.
        request_panel_register(checklist_panel)

        # Early, in each tenant's own morning: the day's work is there when staff arrive.
        job_register_daily(
            "preventive.generate",
            task="preventive.tasks.preventive_requests_generate",
            local_hour=6,
        )
        asset_panel_register(
            "schedules",
            template="assets/panels/schedules.html",
            context=asset_schedules_panel,
            order=20,
        )
