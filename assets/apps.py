from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self):
        from billing.limits import Resource, usage_counter_register

        # Every asset counts against the plan's max_assets.
        Asset = self.get_model("Asset")
        usage_counter_register(Resource.ASSETS, lambda tenant, now: Asset.objects.count())
