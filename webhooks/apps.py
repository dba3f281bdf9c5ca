from datetime import timedelta

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from requests_app.events import request_event
        from tenants.jobs import job_register_every
        from webhooks.events import on_request_event

        request_event.connect(on_request_event, dispatch_uid="webhooks.on_request_event")
        # Deliveries whose task was lost (broker down, worker killed) go out again.
        job_register_every(
            "webhooks.sweep", task="webhooks.deliveries_sweep", every=timedelta(minutes=10)
        )
