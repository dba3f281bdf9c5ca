"""
What every endpoint of the REST API shares: the error format, the plan gate,
key scopes, throttling, pagination and the OpenAPI additions. Each app keeps
its own serializers and views (``<app>/api/``); settings.REST_FRAMEWORK wires
these in as defaults.
"""
