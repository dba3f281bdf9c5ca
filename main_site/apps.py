from django.apps import AppConfig


class MainSiteConfig(AppConfig):
    """
    What the main domain does across apps: signup (an organisation with its
    first admin), the platform API and the commands that set a site up. It
    sits above every other app and has no models.
    """

    name = "main_site"
    verbose_name = "Main site"
