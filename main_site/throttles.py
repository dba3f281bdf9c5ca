from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle


class SignupRateThrottle(AnonRateThrottle):
    """
    Signup attempts per client address (rate: REST_FRAMEWORK's "signup").
    Fairness, not a security control: addresses behind one proxy share it.
    Used by the signup page and the JSON endpoint alike.
    """

    scope = "signup"

    def get_rate(self):
        # Read when used, not when the class is defined, so a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class FindOrganisationRateThrottle(SignupRateThrottle):
    """ "Find my organisation" requests per client address (rate: "find_organisation")."""

    scope = "find_organisation"
