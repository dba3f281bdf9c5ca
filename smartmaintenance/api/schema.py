"""OpenAPI additions: the shared error format, documented on every operation."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx answer of the API (smartmaintenance/api/exceptions.py).",
    "properties": {
        "code": {
            "type": "string",
            "description": "Stable and machine-readable, e.g. `invalid`, `not_authenticated`, "
            "`feature_not_in_plan`, `plan_limit_reached`, `throttled`, `not_found`.",
            "example": "invalid",
        },
        "message": {"type": "string", "example": "Some fields are not valid."},
        "fields": {
            "type": "object",
            "description": "For `invalid` only: each field at fault (dotted when nested) "
            "and its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"title": ["This field is required."]},
        },
    },
    "required": ["code", "message"],
}

ERROR_RESPONSES = {
    "400": "Invalid input, or a rule of the service refused it.",
    "401": "No API key, or one that is not valid for this organisation.",
    "403": "Not allowed: the role, a read-only key, `feature_not_in_plan` or "
    "`plan_limit_reached`, a suspended or read-only organisation.",
    "404": "No such object among those you may see.",
    "405": "Method not allowed.",
    "429": "Rate limit of the plan reached; retry after `Retry-After` seconds.",
}
METHODS = {"get", "head", "post", "put", "patch", "delete"}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the Error component and the 4xx answers each operation may give."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            # 400 for bad filters too, 404 for a page past the end: every
            # operation may give any of them.
            wanted = list(ERROR_RESPONSES)
            if operation.get("security") in ([{}], []):
                wanted.remove("401")  # public
            responses = operation.setdefault("responses", {})
            for code in wanted:
                responses.setdefault(
                    code, {"description": ERROR_RESPONSES[code], "content": reference}
                )
    return result
