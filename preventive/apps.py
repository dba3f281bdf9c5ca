from django.apps import AppConfig


class PreventiveConfig(AppConfig):
    name = "preventive"
    verbose_name = "Preventive maintenance"
