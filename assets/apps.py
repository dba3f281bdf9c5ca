from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self):
        # Imported here, not at the top: models load only once apps are ready.
        from assets.selectors import asset_count, asset_is_visible_to
        from attachments import visibility
        from billing.limits import Resource, usage_counter_register

        # An asset's files: whoever may view assets.
        visibility.register("asset", asset_is_visible_to)
        usage_counter_register(Resource.ASSETS, asset_count)
