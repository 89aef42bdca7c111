"""authorize() as a table: every principal x resource x action, each answer spelled out.

Cast (accounts A = "root" and B = "other"):
  root, admin2   admins of A
  owner          member of A, owns the user-owned bucket ``owned``
  reader         member of A, grant (owned, "", read)
  prefixrw       member of A, grant (contract, "docs/", read-write)
  stranger       member of B, no grants
  other_admin    admin of B
  guest          member of B, grant (owned, "", read-write): cross-account sharing
  disabled_owner the owner, disabled
  anonymous      no user

Buckets: ``owned`` (A, owned by ``owner``), ``contract`` (A, contract-owned), ``public`` (B,
contract-owned, public-read). A resource ``bucket:key`` carries the key (or listing prefix); ``svc`` is
the service level (no bucket).
"""

from __future__ import annotations

import dataclasses

import pytest

from satchel.core.access import Action, Resource, authorize, visible_buckets
from satchel.core.models import ANONYMOUS, Bucket, Grant, Permission, Principal, Role, Status, User

ACCOUNT_A = "acct-a"
ACCOUNT_B = "acct-b"


def _user(uid: str, account: str, role: Role, status: Status = Status.ACTIVE) -> User:
    return User(id=uid, account_id=account, name=uid, role=role, status=status, created=0.0)


def _grant(uid: str, bucket: str, prefix: str, permission: Permission) -> Grant:
    return Grant(id=f"g-{uid}-{bucket}", user_id=uid, bucket=bucket, prefix=prefix,
                 permission=permission, created=0.0)


BUCKETS = {
    "owned": Bucket(name="owned", account_id=ACCOUNT_A, owner_user_id="owner", created=0.0),
    "contract": Bucket(name="contract", account_id=ACCOUNT_A, owner_user_id=None, created=0.0),
    "public": Bucket(name="public", account_id=ACCOUNT_B, owner_user_id=None, created=0.0,
                     public_read=True),
}

OWNER = _user("owner", ACCOUNT_A, Role.MEMBER)
PRINCIPALS = {
    "root": Principal(_user("root", ACCOUNT_A, Role.ADMIN)),
    "admin2": Principal(_user("admin2", ACCOUNT_A, Role.ADMIN)),
    "owner": Principal(OWNER),
    "reader": Principal(_user("reader", ACCOUNT_A, Role.MEMBER),
                        grants=(_grant("reader", "owned", "", Permission.READ),)),
    "prefixrw": Principal(_user("prefixrw", ACCOUNT_A, Role.MEMBER),
                          grants=(_grant("prefixrw", "contract", "docs/", Permission.READ_WRITE),)),
    "stranger": Principal(_user("stranger", ACCOUNT_B, Role.MEMBER)),
    "other_admin": Principal(_user("other_admin", ACCOUNT_B, Role.ADMIN)),
    "guest": Principal(_user("guest", ACCOUNT_B, Role.MEMBER),
                       grants=(_grant("guest", "owned", "", Permission.READ_WRITE),)),
    "disabled_owner": Principal(dataclasses.replace(OWNER, status=Status.DISABLED)),
    "anonymous": ANONYMOUS,
}

COLUMNS = (Action.LIST_BUCKETS, Action.CREATE_BUCKET, Action.BUCKET_READ, Action.BUCKET_ADMIN,
           Action.OBJECT_READ, Action.OBJECT_WRITE)

# Y = allowed, - = denied.
TABLE = """
principal       resource              LB CB BR BA OR OW
root            svc                   Y  Y  -  -  -  -
root            owned                 Y  Y  Y  Y  Y  Y
root            owned:docs/a.txt      Y  Y  Y  Y  Y  Y
root            contract              Y  Y  Y  Y  Y  Y
root            contract:docs/a.txt   Y  Y  Y  Y  Y  Y
root            contract:doc          Y  Y  Y  Y  Y  Y
root            contract:img/b.png    Y  Y  Y  Y  Y  Y
root            public                Y  Y  Y  -  Y  -
root            public:x.txt          Y  Y  Y  -  Y  -
admin2          svc                   Y  Y  -  -  -  -
admin2          owned                 Y  Y  Y  Y  Y  Y
admin2          owned:docs/a.txt      Y  Y  Y  Y  Y  Y
admin2          contract              Y  Y  Y  Y  Y  Y
admin2          contract:docs/a.txt   Y  Y  Y  Y  Y  Y
admin2          contract:doc          Y  Y  Y  Y  Y  Y
admin2          contract:img/b.png    Y  Y  Y  Y  Y  Y
admin2          public                Y  Y  Y  -  Y  -
admin2          public:x.txt          Y  Y  Y  -  Y  -
owner           svc                   Y  Y  -  -  -  -
owner           owned                 Y  Y  Y  Y  Y  Y
owner           owned:docs/a.txt      Y  Y  Y  Y  Y  Y
owner           contract              Y  Y  -  -  -  -
owner           contract:docs/a.txt   Y  Y  -  -  -  -
owner           contract:doc          Y  Y  -  -  -  -
owner           contract:img/b.png    Y  Y  -  -  -  -
owner           public                Y  Y  Y  -  Y  -
owner           public:x.txt          Y  Y  Y  -  Y  -
reader          svc                   Y  Y  -  -  -  -
reader          owned                 Y  Y  Y  -  Y  -
reader          owned:docs/a.txt      Y  Y  Y  -  Y  -
reader          contract              Y  Y  -  -  -  -
reader          contract:docs/a.txt   Y  Y  -  -  -  -
reader          contract:doc          Y  Y  -  -  -  -
reader          contract:img/b.png    Y  Y  -  -  -  -
reader          public                Y  Y  Y  -  Y  -
reader          public:x.txt          Y  Y  Y  -  Y  -
prefixrw        svc                   Y  Y  -  -  -  -
prefixrw        owned                 Y  Y  -  -  -  -
prefixrw        owned:docs/a.txt      Y  Y  -  -  -  -
prefixrw        contract              Y  Y  -  -  -  -
prefixrw        contract:docs/a.txt   Y  Y  Y  -  Y  Y
prefixrw        contract:doc          Y  Y  -  -  -  -
prefixrw        contract:img/b.png    Y  Y  -  -  -  -
prefixrw        public                Y  Y  Y  -  Y  -
prefixrw        public:x.txt          Y  Y  Y  -  Y  -
stranger        svc                   Y  Y  -  -  -  -
stranger        owned                 Y  Y  -  -  -  -
stranger        owned:docs/a.txt      Y  Y  -  -  -  -
stranger        contract              Y  Y  -  -  -  -
stranger        contract:docs/a.txt   Y  Y  -  -  -  -
stranger        contract:doc          Y  Y  -  -  -  -
stranger        contract:img/b.png    Y  Y  -  -  -  -
stranger        public                Y  Y  Y  -  Y  -
stranger        public:x.txt          Y  Y  Y  -  Y  -
other_admin     svc                   Y  Y  -  -  -  -
other_admin     owned                 Y  Y  -  -  -  -
other_admin     owned:docs/a.txt      Y  Y  -  -  -  -
other_admin     contract              Y  Y  -  -  -  -
other_admin     contract:docs/a.txt   Y  Y  -  -  -  -
other_admin     contract:doc          Y  Y  -  -  -  -
other_admin     contract:img/b.png    Y  Y  -  -  -  -
other_admin     public                Y  Y  Y  Y  Y  Y
other_admin     public:x.txt          Y  Y  Y  Y  Y  Y
guest           svc                   Y  Y  -  -  -  -
guest           owned                 Y  Y  Y  -  Y  Y
guest           owned:docs/a.txt      Y  Y  Y  -  Y  Y
guest           contract              Y  Y  -  -  -  -
guest           contract:docs/a.txt   Y  Y  -  -  -  -
guest           contract:doc          Y  Y  -  -  -  -
guest           contract:img/b.png    Y  Y  -  -  -  -
guest           public                Y  Y  Y  -  Y  -
guest           public:x.txt          Y  Y  Y  -  Y  -
disabled_owner  svc                   -  -  -  -  -  -
disabled_owner  owned                 -  -  -  -  -  -
disabled_owner  owned:docs/a.txt      -  -  -  -  -  -
disabled_owner  contract              -  -  -  -  -  -
disabled_owner  contract:docs/a.txt   -  -  -  -  -  -
disabled_owner  contract:doc          -  -  -  -  -  -
disabled_owner  contract:img/b.png    -  -  -  -  -  -
disabled_owner  public                -  -  -  -  -  -
disabled_owner  public:x.txt          -  -  -  -  -  -
anonymous       svc                   -  -  -  -  -  -
anonymous       owned                 -  -  -  -  -  -
anonymous       owned:docs/a.txt      -  -  -  -  -  -
anonymous       contract              -  -  -  -  -  -
anonymous       contract:docs/a.txt   -  -  -  -  -  -
anonymous       contract:doc          -  -  -  -  -  -
anonymous       contract:img/b.png    -  -  -  -  -  -
anonymous       public                -  -  Y  -  Y  -
anonymous       public:x.txt          -  -  Y  -  Y  -
"""


def _resource(name: str) -> Resource:
    if name == "svc":
        return Resource(bucket=None)
    bucket, _, key = name.partition(":")
    return Resource(bucket=BUCKETS[bucket], key=key or None)


def _cells() -> list[tuple[str, str, Action, bool]]:
    lines = [line.split() for line in TABLE.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header[2:] == ["LB", "CB", "BR", "BA", "OR", "OW"]
    cells: list[tuple[str, str, Action, bool]] = []
    for principal, resource, *answers in rows:
        assert len(answers) == len(COLUMNS), (principal, resource)
        assert all(a in {"Y", "-"} for a in answers), (principal, resource)
        cells.extend((principal, resource, action, answer == "Y")
                     for action, answer in zip(COLUMNS, answers, strict=True))
    return cells


CELLS = _cells()


def test_table_covers_every_combination_once() -> None:
    seen = {(p, r, a) for p, r, a, _ in CELLS}
    resources = {r for _, r, _, _ in CELLS}
    assert len(seen) == len(CELLS)
    assert {p for p, _, _ in seen} == set(PRINCIPALS)
    assert len(seen) == len(PRINCIPALS) * len(resources) * len(COLUMNS)
    assert set(COLUMNS) == set(Action)


@pytest.mark.parametrize(("principal", "resource", "action", "expected"), CELLS,
                         ids=[f"{p}-{r}-{a}" for p, r, a, _ in CELLS])
def test_authorize_matrix(principal: str, resource: str, action: Action, expected: bool) -> None:
    assert authorize(PRINCIPALS[principal], action, _resource(resource)) is expected


def test_grants_of_another_user_are_ignored() -> None:
    """A principal assembled with someone else's grant (a bug upstream) must not gain from it."""
    stolen = _grant("reader", "owned", "", Permission.READ_WRITE)
    principal = Principal(_user("stranger", ACCOUNT_B, Role.MEMBER), grants=(stolen,))
    assert not authorize(principal, Action.OBJECT_READ, Resource(BUCKETS["owned"], "k"))
    assert visible_buckets(principal, BUCKETS.values()) == []


def test_grant_on_another_bucket_does_not_leak() -> None:
    principal = PRINCIPALS["reader"]
    assert not authorize(principal, Action.OBJECT_READ, Resource(BUCKETS["contract"], "k"))


def test_prefix_grant_listing_prefixes() -> None:
    principal = PRINCIPALS["prefixrw"]
    contract = BUCKETS["contract"]
    assert authorize(principal, Action.BUCKET_READ, Resource(contract, "docs/"))
    assert authorize(principal, Action.BUCKET_READ, Resource(contract, "docs/sub/"))
    assert not authorize(principal, Action.BUCKET_READ, Resource(contract, ""))
    assert not authorize(principal, Action.BUCKET_READ, Resource(contract, "do"))
    # Prefix matching is exact, byte for byte: no case folding, no path normalisation.
    assert not authorize(principal, Action.OBJECT_READ, Resource(contract, "Docs/a.txt"))
    assert not authorize(principal, Action.OBJECT_READ, Resource(contract, "./docs/a.txt"))


def test_read_grant_with_prefix_does_not_write() -> None:
    grant = _grant("m", "contract", "in/", Permission.READ)
    principal = Principal(_user("m", ACCOUNT_A, Role.MEMBER), grants=(grant,))
    assert authorize(principal, Action.OBJECT_READ, Resource(BUCKETS["contract"], "in/x"))
    assert not authorize(principal, Action.OBJECT_WRITE, Resource(BUCKETS["contract"], "in/x"))


def test_one_matching_grant_among_many_is_enough() -> None:
    grants = (_grant("m", "contract", "a/", Permission.READ),
              _grant("m", "contract", "b/", Permission.READ_WRITE))
    principal = Principal(_user("m", ACCOUNT_A, Role.MEMBER), grants=grants)
    assert authorize(principal, Action.OBJECT_WRITE, Resource(BUCKETS["contract"], "b/x"))
    assert not authorize(principal, Action.OBJECT_WRITE, Resource(BUCKETS["contract"], "a/x"))


def test_owner_of_a_bucket_in_another_account_is_not_an_admin_there() -> None:
    """Admin rights follow the bucket's account, not the owner's."""
    admin_b = PRINCIPALS["other_admin"]
    assert not authorize(admin_b, Action.BUCKET_ADMIN, Resource(BUCKETS["owned"]))


def test_contract_bucket_has_no_owner_match_for_users_without_id() -> None:
    """A contract bucket (owner None) must not match any user by owner id."""
    member = Principal(_user("owner", ACCOUNT_A, Role.MEMBER))
    assert not authorize(member, Action.OBJECT_READ, Resource(BUCKETS["contract"], "k"))


VISIBLE = {
    "root": ["owned", "contract"],
    "admin2": ["owned", "contract"],
    "owner": ["owned"],
    "reader": ["owned"],
    "prefixrw": ["contract"],
    "stranger": [],
    "other_admin": ["public"],
    "guest": ["owned"],
    "disabled_owner": [],
    "anonymous": [],
}


@pytest.mark.parametrize("principal", sorted(VISIBLE))
def test_visible_buckets(principal: str) -> None:
    names = [b.name for b in visible_buckets(PRINCIPALS[principal], BUCKETS.values())]
    assert names == VISIBLE[principal]
