"""
One error format for every 4xx of the API:

    {"code": "invalid", "message": "Some fields are not valid.",
     "fields": {"title": ["This field is required."], "details.voltage": ["…"]}}

``code`` is stable and machine-readable; ``message`` is for people;
``fields`` (only for invalid input) maps each field at fault, dotted for
nested ones, to its messages. The services raise Django's ValidationError
(and subclasses such as billing's PlanLimitReached and FeatureNotInPlan);
they are turned into the same format here, so the API states the same rules
as the web UI in the same words. A subclass that sets ``status_code`` (403
for the plan's refusals) is answered with it; nothing here names an app.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

INVALID_MESSAGE = "Some fields are not valid."


class RuleRefused(exceptions.APIException):
    """A service's rule refused the call: 403 when it is about who asks, 400 otherwise."""

    def __init__(self, message, code, status_code):
        self.status_code = status_code
        super().__init__(detail=message, code=code)


def _from_django_validation_error(error: DjangoValidationError) -> exceptions.APIException:
    status_code = getattr(error, "status_code", None)
    if status_code is not None:
        return RuleRefused(error.messages[0], error.code, status_code)
    if hasattr(error, "error_dict"):
        fields = {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
        return exceptions.ValidationError(fields)
    code = getattr(error, "code", None) or "invalid"
    forbidden = code.endswith("_forbidden")
    return RuleRefused(
        " ".join(error.messages),
        code,
        status.HTTP_403_FORBIDDEN if forbidden else status.HTTP_400_BAD_REQUEST,
    )


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.b": ["message", …]}``."""
    if isinstance(detail, dict):
        fields = {}
        for key, value in detail.items():
            fields.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return fields
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        fields = {}
        for index, item in enumerate(detail):
            fields.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def _validation_body(exc: exceptions.ValidationError) -> dict:
    fields = _flatten(exc.detail)
    codes = exc.get_codes()
    general = fields.pop("non_field_errors", [])
    body = {"code": "invalid", "message": " ".join(general) or INVALID_MESSAGE}
    if general and not fields:
        # One rule refused the whole input: pass its own code on.
        first = codes.get("non_field_errors", codes) if isinstance(codes, dict) else codes
        while isinstance(first, list) and first:
            first = first[0]
        if isinstance(first, str) and first != "invalid":
            body["code"] = first
    if fields:
        body["fields"] = fields
    return body


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation_error(exc)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
    else:
        code = exc.get_codes()
        response.data = {
            "code": code if isinstance(code, str) else exc.default_code,
            "message": str(exc.detail),
        }
    return response


@csrf_exempt  # a POST to no endpoint is a 404, not a CSRF failure page
def api_not_found(request, *args, **kwargs):
    """Any other path under ``/api/``: a JSON 404 instead of the HTML page."""
    return JsonResponse(
        {"code": "not_found", "message": "There is no such API endpoint."},
        status=status.HTTP_404_NOT_FOUND,
    )
