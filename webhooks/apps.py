from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from requests_app.events import request_event
        from webhooks.events import on_request_event

        request_event.connect(on_request_event, dispatch_uid="webhooks.on_request_event")
