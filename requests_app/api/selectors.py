"""
Reads shaped for the requests API: each request as the plain values its
representation reads (``serializers.request_representation``), details
included, so that a page is one query and no model instances (bench/api.py).
Who sees what comes from ``requests_app.selectors``.
"""

import functools

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, DecimalField, JSONField
from django.db.models.expressions import RawSQL

from requests_app.api.serializers import DETAIL_FIELDS, RequestSerializer
from requests_app.models import DETAIL_MODELS, MaintenanceRequest
from requests_app.selectors import request_list_visible_to


@functools.cache
def _details_sql() -> dict[str, str]:
    """
    ``<relation>_details`` -> a correlated subquery giving one request's row of
    that details table as a JSON object, or NULL.

    Not joined: three more LEFT JOINs on top of the selector's four make
    PostgreSQL's planner weigh so many join orders that planning a page costs
    ten times running it (bench/api.py); a subquery in the select list is
    planned once and costs an index probe per row. Not prefetched either:
    that is three more round trips per page. And written once, as SQL: built
    from ``Subquery`` and ``JSONObject`` expressions on every call it cost
    more than a tenth of the whole API call (making and compiling them).
    Only table and column names from the models go in, quoted.
    """
    quote = connection.ops.quote_name
    parent = MaintenanceRequest._meta
    sql = {}
    for request_type, (relation, serializer) in DETAIL_FIELDS.items():
        model = DETAIL_MODELS[request_type]
        table = quote(model._meta.db_table)
        pairs = []
        for name in serializer.Meta.fields:
            field = model._meta.get_field(name)
            column = f"{table}.{quote(field.column)}"
            # Decimals as text, as DRF writes them ("18.5"), not as JSON numbers.
            value = f"({column})::text" if isinstance(field, DecimalField) else column
            pairs.append(f"'{name}', {value}")
        request_column = quote(model._meta.get_field("request").column)
        parent_pk = f"{quote(parent.db_table)}.{quote(parent.pk.column)}"
        select = f"SELECT JSONB_BUILD_OBJECT({', '.join(pairs)}) FROM {table}"  # noqa: S608
        sql[f"{relation}_details"] = (
            f"({select} WHERE {table}.{request_column} = {parent_pk} LIMIT 1)"
        )
    return sql


def _with_details(requests):
    """``requests`` with each one's details as a JSON object (``<relation>_details``)."""
    return requests.annotate(
        **{
            name: RawSQL(sql, (), output_field=JSONField())  # noqa: S611 - no input in it
            for name, sql in _details_sql().items()
        }
    )


def request_rows(requests):
    """
    ``requests`` as the plain values the representation reads, details
    included: a page of 50 is one query and no model instances (five per
    row with the people, asset and location), see bench/api.py.
    """
    names = [f"{relation}_details" for relation, _serializer in DETAIL_FIELDS.values()]
    return _with_details(requests).values(*RequestSerializer.Meta.columns, *names)


# The key of the total in the rows of request_rows_counted(); the representation ignores it.
TOTAL = "rows_total"


def request_rows_counted(rows, requests):
    """
    ``rows`` (of ``request_rows``), each also carrying under ``TOTAL`` how
    many ``requests`` there are, counted in the same statement: a page and
    the paginator's count in one round trip instead of two. The count is a
    subquery over the bare table with the list's conditions (no joins, as
    the separate COUNT had), run once per statement, not per row. None when
    ``requests`` can match nothing (an empty ``IN``): count those plainly.
    """
    try:
        sql, params = requests.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None
    count_sql = f"SELECT COUNT(*) FROM ({sql}) AS counted"  # noqa: S608 - the ORM's own SQL
    total = RawSQL(count_sql, params, output_field=BigIntegerField())  # noqa: S611 - values as parameters
    return rows.annotate(**{TOTAL: total})


def request_row_get_visible(user, pk) -> dict:
    """One request ``user`` may see, as a row; DoesNotExist otherwise."""
    return request_rows(request_list_visible_to(user)).get(pk=pk)
