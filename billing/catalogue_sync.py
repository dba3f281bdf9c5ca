"""
The plan catalogue in Stripe: one product per paid plan and a monthly and an
annual price for each (annual = ANNUAL_MONTHS times monthly), found by lookup
key. Idempotent: what already matches is left alone, so it runs at every
deploy (``manage.py billing_sync_plans``).
"""

import stripe

from billing.plans import ANNUAL_MONTHS, PAID_PLAN_CODES, get_plan
from billing.stripe_client import client
from billing.stripe_data import lookup_key

CURRENCY = "usd"
INTERVALS = {"monthly": "month", "annual": "year"}


def product_id(plan: str) -> str:
    return f"smartmaintenance_{plan}"


def _product_ensure(api, plan) -> str:
    wanted = {"name": f"SmartMaintenance {plan.name}", "metadata": {"plan": plan.code.value}}
    try:
        product = api.products.retrieve(product_id(plan.code))
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise
        api.products.create({"id": product_id(plan.code), **wanted})
        return "created"
    if product.name != wanted["name"] or not product.active:
        api.products.update(product_id(plan.code), {**wanted, "active": True})
        return "updated"
    return "unchanged"


def _price_ensure(api, plan, cycle) -> str:
    key = lookup_key(plan.code.value, cycle)
    months = ANNUAL_MONTHS if cycle == "annual" else 1
    amount = int(plan.monthly_price * months * 100)
    found = api.prices.list({"lookup_keys": [key], "limit": 1}).data
    current = found[0] if found else None
    if (
        current is not None
        and current.active
        and current.unit_amount == amount
        and current.currency == CURRENCY
        and current.recurring.interval == INTERVALS[cycle]
        and current.product == product_id(plan.code)
    ):
        return "unchanged"
    # Prices cannot change: make a new one, move the lookup key to it, retire the old.
    api.prices.create(
        {
            "product": product_id(plan.code),
            "unit_amount": amount,
            "currency": CURRENCY,
            "recurring": {"interval": INTERVALS[cycle]},
            "lookup_key": key,
            "transfer_lookup_key": True,
            "metadata": {"plan": plan.code.value, "cycle": cycle},
        }
    )
    if current is not None and current.active:
        api.prices.update(current.id, {"active": False})
    return "replaced" if current is not None else "created"


def plans_sync() -> list[str]:
    """Bring Stripe's products and prices in line with the catalogue; one line per object."""
    api = client().v1
    report = []
    for code in PAID_PLAN_CODES:
        plan = get_plan(code)
        report.append(f"product {product_id(code)}: {_product_ensure(api, plan)}")
        for cycle in INTERVALS:
            report.append(
                f"price {lookup_key(code.value, cycle)}: {_price_ensure(api, plan, cycle)}"
            )
    return report
