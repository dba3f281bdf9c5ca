"""Subdomain rules: each rejection explains itself."""

import pytest
from django.core.exceptions import ValidationError

from tenants.services import schema_name_for, subdomain_validate_available
from tenants.validators import validate_subdomain

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("subdomain", "code"),
    [
        ("ab", "length"),
        ("a" * 64, "length"),
        ("Acme", "uppercase"),
        ("-acme", "hyphen"),
        ("acme-", "hyphen"),
        ("ac_me", "invalid_characters"),
        ("ac.me", "invalid_characters"),
        ("acmé", "invalid_characters"),
        ("ac me", "invalid_characters"),
        ("www", "reserved"),
        ("admin", "reserved"),
        ("api", "reserved"),
        ("public", "reserved"),
        ("static", "reserved"),
        ("billing", "reserved"),
        ("information-schema", "reserved"),
        ("pg-catalog", "reserved"),
        ("pg-anything", "reserved"),
    ],
)
def test_malformed_and_reserved_subdomains_are_refused_with_a_reason(subdomain, code):
    with pytest.raises(ValidationError) as raised:
        validate_subdomain(subdomain)

    assert raised.value.code == code
    assert raised.value.messages[0]


@pytest.mark.parametrize("subdomain", ["abc", "acme-facilities", "a1b2", "x" * 63, "3m-co"])
def test_well_formed_subdomains_are_accepted(subdomain):
    validate_subdomain(subdomain)


def test_a_taken_subdomain_is_refused(alpha):
    with pytest.raises(ValidationError, match="already taken"):
        subdomain_validate_available("alpha")


def test_schema_names_are_derived_safely_and_fit_postgresql(alpha):
    assert schema_name_for("acme-co") == "t_acme_co"
    assert len(schema_name_for("x" * 63)) <= 63
    # alpha's schema exists, so a new tenant called alpha would get a fresh name
    assert schema_name_for("alpha") == "t_alpha_2"
