"""
What every endpoint of the REST API shares: the error format, key scopes,
pagination and the OpenAPI additions. It imports no app: the plan gate and
the per-plan throttle are billing's (``billing/api/``). Each app keeps its
own serializers and views (``<app>/api/``); settings.REST_FRAMEWORK wires
these in as defaults.
"""
