"""Query filters of the preventive-maintenance API; a bad value is a 400 naming the filter."""

import django_filters

from assets.models import Asset
from preventive.models import MaintenanceSchedule


class ScheduleAPIFilter(django_filters.FilterSet):
    asset = django_filters.ModelChoiceFilter(queryset=Asset.objects.all())
    active = django_filters.BooleanFilter()

    class Meta:
        model = MaintenanceSchedule
        fields = ["asset", "active"]
