from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

DEFAULT_REPORT_RATE = "10/hour"


class AssetReportRateThrottle(AnonRateThrottle):
    """
    Problem reports from the public QR-code page, per client address and
    tenant (cache keys carry the schema). Rate: REST_FRAMEWORK's
    "asset_report", 10/hour when not set. Fairness, not a security control:
    addresses behind one proxy share it.
    """

    scope = "asset_report"

    def get_rate(self):
        # Read when used, not when the class is defined, so a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, DEFAULT_REPORT_RATE)
