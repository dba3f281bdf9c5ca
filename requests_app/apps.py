from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Maintenance requests"

    def ready(self):
        from billing.limits import Resource, month_start, usage_counter_register

        MaintenanceRequest = self.get_model("MaintenanceRequest")

        def requests_this_month(tenant, now):
            # Counted against max_requests_per_month from the tenant's local month start.
            created = MaintenanceRequest.objects.filter(created__gte=month_start(tenant, now))
            return created.count()

        usage_counter_register(Resource.REQUESTS, requests_this_month)
