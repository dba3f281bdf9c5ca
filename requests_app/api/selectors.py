"""
Reads shaped for the requests API: each request as the plain values its
representation reads (``serializers.request_representation``), details
included, so that a page is one query and no model instances (bench/api.py).
Who sees what comes from ``requests_app.selectors``.
"""

from django.db.models import DecimalField, F, JSONField, OuterRef, Subquery, TextField
from django.db.models.functions import Cast, JSONObject

from requests_app.api.serializers import DETAIL_FIELDS, RequestSerializer
from requests_app.models import DETAIL_MODELS
from requests_app.selectors import request_list_visible_to


def _with_details(requests):
    """
    ``requests`` with each one's details as a JSON object (``<type>_details``),
    read by a subquery per details table in the same query.

    Not joined: three more LEFT JOINs on top of the selector's four make
    PostgreSQL's planner weigh so many join orders that planning a page costs
    ten times running it (bench/api.py); a subquery in the select list is
    planned once and costs an index probe per row. Not prefetched either:
    that is three more round trips per page.
    """
    annotations = {}
    for request_type, (relation, serializer) in DETAIL_FIELDS.items():
        model = DETAIL_MODELS[request_type]
        fields = {
            # Decimals as text, as DRF writes them ("18.5"), not as JSON numbers.
            name: Cast(name, TextField())
            if isinstance(model._meta.get_field(name), DecimalField)
            else F(name)
            for name in serializer.Meta.fields
        }
        details = model.objects.filter(request_id=OuterRef("pk")).values(json=JSONObject(**fields))
        annotations[f"{relation}_details"] = Subquery(details[:1], output_field=JSONField())
    return requests.annotate(**annotations)


def request_rows(requests):
    """
    ``requests`` as the plain values the representation reads, details
    included: a page of 50 is one query and no model instances (five per
    row with the people, asset and location), see bench/api.py.
    """
    names = [f"{relation}_details" for relation, _serializer in DETAIL_FIELDS.values()]
    return _with_details(requests).values(*RequestSerializer.Meta.columns, *names)


def request_row_get_visible(user, pk) -> dict:
    """One request ``user`` may see, as a row; DoesNotExist otherwise."""
    return request_rows(request_list_visible_to(user)).get(pk=pk)
