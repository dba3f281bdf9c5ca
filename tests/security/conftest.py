"""
The attack suite's ledger: every attack tried is a case, every case that
got through is a leak. Each test records its cases with the ``attacks``
fixture and fails, naming them, if any leaked; the session prints
"N cases, M leaks" at the end (the ledger itself is in tests/conftest.py,
so that it adds up the counts of every xdist process). See
tests/security/README.md.
"""

import pytest


class Attacks:
    """One test's attacks: ``check(case, leaked_because)``; a falsy reason means it held."""

    def __init__(self, ledger):
        self.ledger, self.cases, self.leaks = ledger, 0, []
        self.asserted = False

    def check(self, case, leak: str | None) -> None:
        self.cases += 1
        self.ledger["cases"] += 1
        if leak:
            self.ledger["leaks"] += 1
            self.leaks.append(f"{case}: {leak}")

    def assert_held(self) -> None:
        """Fail the test, naming every leak, unless every case held."""
        self.asserted = True
        assert self.cases, "no attack was generated"
        if self.leaks:
            pytest.fail(
                f"{len(self.leaks)} of {self.cases} cases leaked:\n" + "\n".join(self.leaks),
                pytrace=False,
            )


@pytest.fixture
def attacks(attack_ledger):
    recorded = Attacks(attack_ledger)
    yield recorded
    # A test that forgot to assert still fails on a leak (as an error in teardown).
    if not recorded.asserted:
        recorded.assert_held()
