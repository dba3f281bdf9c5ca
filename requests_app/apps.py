from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Maintenance requests"

    def ready(self):
        # Imported here, not at the top: models load only once apps are ready.
        from attachments import visibility
        from billing.limits import Resource, usage_counter_register
        from requests_app.selectors import request_count_this_month, request_is_visible_to

        # A request's files: whoever may see the request.
        visibility.register("request", request_is_visible_to)
        usage_counter_register(Resource.REQUESTS, request_count_this_month)
