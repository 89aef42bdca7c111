"""authorize() for account-level actions (rule 8: Swift's account metadata), as a table over the cast
of test_access.py: same account only, ACCOUNT_ADMIN for admins only, never through a link, never for a
disabled user or anonymous."""

from __future__ import annotations

import pytest

from satchel.core.access import Action, Resource, authorize
from tests.unit.core.test_access import ACCOUNT_A, ACCOUNT_B, PRINCIPALS

# principal, account, ACCOUNT_READ, ACCOUNT_ADMIN
TABLE = [
    ("root", ACCOUNT_A, True, True),
    ("admin2", ACCOUNT_A, True, True),
    ("owner", ACCOUNT_A, True, False),
    ("reader", ACCOUNT_A, True, False),
    ("root", ACCOUNT_B, False, False),
    ("other_admin", ACCOUNT_B, True, True),
    ("other_admin", ACCOUNT_A, False, False),
    ("guest", ACCOUNT_A, False, False),
    ("stranger", ACCOUNT_B, True, False),
    ("disabled_owner", ACCOUNT_A, False, False),
    ("anonymous", ACCOUNT_A, False, False),
    ("root+link", ACCOUNT_A, False, False),
    ("owner+link", ACCOUNT_A, False, False),
]


@pytest.mark.parametrize(("principal", "account", "read", "admin"), TABLE,
                         ids=[f"{p}-{a}" for p, a, _, _ in TABLE])
def test_account_actions(principal: str, account: str, read: bool, admin: bool) -> None:
    resource = Resource(bucket=None, account_id=account)
    assert authorize(PRINCIPALS[principal], Action.ACCOUNT_READ, resource) is read
    assert authorize(PRINCIPALS[principal], Action.ACCOUNT_ADMIN, resource) is admin


def test_account_actions_need_an_account() -> None:
    assert not authorize(PRINCIPALS["root"], Action.ACCOUNT_READ, Resource(bucket=None))
