import pytest

from tests.test_api_requests import URL, people  # noqa

CASES = [
    {"title": "x", "type": "electrical", "details": {"hazard_present": None}},
    {"title": "x", "type": "electrical", "details": {"circuit": None}},
    {"title": "x", "type": "electrical", "details": {"voltage": 99999999999}},
    {"title": "x", "type": "electrical", "details": {"voltage": -1}},
    {"title": "x", "type": "electrical", "details": "abc"},
    {"title": "x", "type": "electrical", "details": [1]},
    {"title": "x", "type": "general", "details": {}},
    {"title": "x", "type": "hvac", "details": {"reported_temperature": "NaN"}},
    {"title": "x", "type": "hvac", "details": {"reported_temperature": 12.55}},
    {"title": "x", "type": "hvac", "details": {"reported_temperature": "1234567"}},
    {"title": "x", "type": "plumbing", "details": {"fixture": "a" * 200}},
    {"title": "x", "type": "plumbing", "details": {"fixture": {"a": 1}}},
    {"title": "x", "type": "electrical", "details": {"voltage": "high", "colour": 1}},
    {"title": "x", "type": "electrical", "details": {"request": 1}},
    {"title": "", "type": "electrical", "details": {"voltage": "high"}},
]


@pytest.mark.parametrize("body", CASES)
def test_scratch(people, body):
    lead, _ = people["lead"]
    r = lead.post(URL, body)
    print(
        "\nCASE", body if len(str(body)) < 100 else str(body)[:100], "->", r.status_code, r.json()
    )
    assert r.status_code < 500
