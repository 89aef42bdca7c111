"""core/inflight.py: a write's second admission, one row per way it ends (real servers: tests/clients/
test_inflight_revocation.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.core import inflight
from satchel.core.admission import Admission, IssueTime, LinkUse
from satchel.core.errors import AccessDenied, InvalidAccessKeyId, SatchelError
from satchel.core.models import ANONYMOUS, Principal, Revocation, RevocationScope, Role, Status, User

USER = User(id="u1", account_id="a1", name="ann", role=Role.MEMBER, status=Status.ACTIVE, created=0.0)
KEYED = Principal(USER, "SKKEY", (), True)


@dataclass
class Blobs:
    deleted: list[str] = field(default_factory=list)

    async def delete(self, ids: list[str]) -> None:
        self.deleted.extend(ids)


@dataclass
class Credentials:
    expired: int = 0
    refuse: SatchelError | None = None

    def expire(self) -> None:
        self.expired += 1

    def resolve(self, key_id: str) -> tuple[None, Principal]:
        if self.refuse is not None:
            raise self.refuse
        return None, Principal(USER, key_id, ("fresh",), False)  # type: ignore[arg-type]

    def principal_for_user(self, user_id: str) -> Principal:
        return Principal(USER, None, ("fresh",), False)  # type: ignore[arg-type]


def _node(**extra: Any) -> Any:
    gate = SimpleNamespace(expired=0)
    gate.expire = lambda: setattr(gate, "expired", gate.expired + 1)
    node = SimpleNamespace(blobs=Blobs(), credentials=Credentials(), gate=gate, **extra)

    async def refresh() -> None:  # Node.refresh on SQLite: both caches check the generation again
        gate.expire()
        node.credentials.expire()

    async def read(fn: Any, *args: Any, **kwargs: Any) -> Any:  # Node.read on SQLite: inline
        return fn(*args, **kwargs)

    node.refresh, node.read = refresh, read
    return node


def _confirm(node: Any, recheck: inflight.Recheck | None, authorize: Any = lambda p: None) -> Principal:
    return asyncio.run(inflight.confirm(node, recheck, KEYED, authorize, ["b1"]))


def test_without_a_recheck_the_principal_stands_and_nothing_is_read() -> None:
    node = _node()
    assert _confirm(node, None) is KEYED
    assert (node.gate.expired, node.credentials.expired, node.blobs.deleted) == (0, 0, [])


def test_a_passed_recheck_returns_the_fresh_principal_and_reads_afresh() -> None:
    node = _node()
    seen: list[Principal] = []
    got = _confirm(node, inflight.signer_recheck(node, KEYED), seen.append)
    assert got.grants == ("fresh",) and got.via_link and seen == [got]  # type: ignore[comparison-overlap]
    assert (node.gate.expired, node.credentials.expired, node.blobs.deleted) == (1, 1, [])


@pytest.mark.parametrize("where", ["recheck", "authorize"])
def test_a_refusal_deletes_the_blob_and_is_marked_in_flight(where: str) -> None:
    node = _node()
    if where == "recheck":
        node.credentials.refuse = InvalidAccessKeyId()
    refusal = AccessDenied("lost the grant")

    def authorize(_: Principal) -> None:
        raise refusal

    with pytest.raises(SatchelError) as refused:
        _confirm(node, inflight.signer_recheck(node, KEYED), authorize)
    assert refused.value.in_flight
    assert refused.value.message.endswith(inflight.REFUSED_IN_FLIGHT)
    assert node.blobs.deleted == ["b1"]


def test_another_failure_deletes_the_blob_unmarked() -> None:
    node = _node()

    async def broken() -> Principal:
        raise RuntimeError("store gone")

    with pytest.raises(RuntimeError):
        _confirm(node, broken)
    assert node.blobs.deleted == ["b1"]


@pytest.mark.parametrize(("principal", "fresh_key"), [
    (ANONYMOUS, None), (Principal(USER, None, (), False), None), (KEYED, "SKKEY")])
def test_current_signer(principal: Principal, fresh_key: str | None) -> None:
    current = inflight.current_signer(_node(), principal)
    assert current.via_link == principal.via_link
    assert current.access_key_id == fresh_key
    assert current.user == principal.user


def _admission(link: Any = None) -> Admission:
    use = LinkUse(principal=KEYED, bucket="b", key="k", method="PUT", issued_at=100.0, expires_at=400.0)
    return Admission(use, link, IssueTime(100.0, 900.0), None)


def _readmit_node(link: Any = None, revocation: Revocation | None = None) -> Any:
    return _node(store=SimpleNamespace(get_link=lambda _: link), bucket=lambda _: None,
                 clock=SimpleNamespace(now=lambda: 200.0), settings=SimpleNamespace(max_link_lifetime=604800),
                 revocations=SimpleNamespace(revoked=lambda issued, target: revocation))


def test_readmit_passes_a_link_nothing_touched() -> None:
    inflight.readmit(_readmit_node(), _admission(), KEYED)


def test_readmit_refuses_a_revocation_made_meanwhile() -> None:
    revocation = Revocation(id="r1", scope=RevocationScope.OBJECT, target="k", bucket="b", before=150.0, created=150.0,
                            created_by="u0", bucket_id="b1")
    with pytest.raises(AccessDenied, match="object revocation r1"):
        inflight.readmit(_readmit_node(revocation=revocation), _admission(), KEYED)


@pytest.mark.parametrize("current", [None, SimpleNamespace(revoked=150.0)])
def test_readmit_refuses_a_minted_link_revoked_or_gone(current: Any) -> None:
    minted = SimpleNamespace(id="L1", expires=400.0, revoked=None)
    with pytest.raises(AccessDenied, match="The link has been revoked"):
        inflight.readmit(_readmit_node(link=current), _admission(minted), KEYED)


def test_readmit_ignores_expiry_and_use_count() -> None:
    """Judged at the start only: a link expired or used up since is no reason to refuse."""
    minted = SimpleNamespace(id="L1", expires=150.0, revoked=None, uses=1, max_uses=1)
    inflight.readmit(_readmit_node(link=minted), _admission(minted), KEYED)


def test_readmit_of_a_use_without_an_issue_time_checks_no_revocation() -> None:
    node = _readmit_node(revocation=Revocation(id="r1", scope=RevocationScope.BUCKET, target="b", bucket=None,
                                               before=150.0, created=150.0))
    inflight.readmit(node, Admission(_admission().use, None, None, None), KEYED)


def test_a_link_recheck_admits_the_link_again_as_the_current_principal() -> None:
    revocation = Revocation(id="r2", scope=RevocationScope.USER, target="u1", bucket=None, before=150.0,
                            created=150.0)
    node = _readmit_node(revocation=revocation)
    recheck = inflight.signer_recheck(node, KEYED, _admission(), current=lambda: KEYED)
    with pytest.raises(AccessDenied, match="user revocation r2"):
        _confirm(node, recheck)


@pytest.mark.parametrize(("max_uses", "given_back"), [(1, ["L1"]), (None, [])])
def test_give_back_only_a_counted_limited_use(max_uses: int | None, given_back: list[str]) -> None:
    written: list[str] = []

    async def write(fn: Any, link_id: str) -> None:
        written.append(link_id)

    node = SimpleNamespace(write=write, store=SimpleNamespace(give_back_link_use=None))
    asyncio.run(inflight.give_back(node, _admission(SimpleNamespace(id="L1", max_uses=max_uses))))  # type: ignore[arg-type]
    asyncio.run(inflight.give_back(node, None))  # type: ignore[arg-type]
    assert written == given_back
