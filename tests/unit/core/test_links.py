"""Admission of links at use time, minting decisions and revocation rights, on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from satchel.core import admission as admission_module
from satchel.core import links, revocations
from satchel.core.admission import Admission, LinkUse, RevocationList
from satchel.core.audit import visible_to
from satchel.core.caches import GenerationGate
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchBucket, NoSuchKey, NoSuchVersion, NotFound
from satchel.core.links import LinkSpec
from satchel.core.models import (
    AccessKey,
    AuditQuery,
    Bucket,
    Link,
    LinkKind,
    ObjectRecord,
    Permission,
    Principal,
    Revocation,
    RevocationScope,
    Role,
    Segment,
    Status,
)
from satchel.meta.sqlite import SqliteStore
from satchel.signing.sigv4.verify import MAX_SKEW_SECONDS

NOW = 10_000.0


@dataclass
class World:
    store: SqliteStore
    owner: Principal
    member: Principal
    stranger: Principal
    admin: Principal
    key: AccessKey


@pytest.fixture
def world(store: SqliteStore) -> Iterator[World]:
    account = store.create_account("acme")
    other = store.create_account("other")
    owner = store.create_user(account.id, "owner", Role.MEMBER)
    member = store.create_user(account.id, "member", Role.MEMBER)
    admin = store.create_user(account.id, "admin", Role.ADMIN)
    stranger = store.create_user(other.id, "stranger", Role.MEMBER)
    store.create_bucket(Bucket("photos", account.id, owner.id, 1.0))
    store.put_object(ObjectRecord("photos", "a.jpg", 3, "etag", 1.0, (Segment("b" * 32, 3),)))
    grant = store.add_grant(member.id, "photos", "shared/", Permission.READ)
    yield World(
        store,
        Principal(owner, "AKOWNER"),
        Principal(member, "AKMEMBER", (grant,)),
        Principal(stranger, "AKSTRANGER"),
        Principal(admin, "AKADMIN"),
        AccessKey("AKOWNER", owner.id, "secret", Status.ACTIVE, 1.0),
    )


def use(world: World, **changes: object) -> LinkUse:
    base = LinkUse(world.owner, "photos", "a.jpg", "GET", issued_at=NOW - 10, expires_at=NOW + 50)
    return replace(base, **changes)  # type: ignore[arg-type]


def admission(world: World, link_use: LinkUse, server_max: int = 604800,
              first_seen: float | None = None) -> Admission:
    gate = GenerationGate(world.store, ttl=0)
    bucket = world.store.get_bucket(link_use.bucket) if link_use.bucket else None
    return admission_module.admit(world.store, RevocationList(world.store, gate), link_use, bucket,
                                  server_max=server_max, now=NOW, first_seen=first_seen)


def admit(world: World, link_use: LinkUse, server_max: int = 604800, first_seen: float | None = None) -> Link | None:
    return admission(world, link_use, server_max, first_seen).link


def test_plain_presigned_url_is_admitted(world: World) -> None:
    assert admit(world, use(world)) is None


def test_server_and_bucket_lifetime_ceilings(world: World) -> None:
    with pytest.raises(AccessDenied, match="maximum of 30 seconds this server"):
        admit(world, use(world), server_max=30)
    world.store.update_bucket("photos", max_link_lifetime=59)
    with pytest.raises(AccessDenied, match="maximum of 59 seconds set on this bucket"):
        admit(world, use(world))
    world.store.update_bucket("photos", max_link_lifetime=60)
    assert admit(world, use(world)) is None
    # A link without an issue time is measured from now: 50 s left.
    world.store.update_bucket("photos", max_link_lifetime=49)
    with pytest.raises(AccessDenied):
        admit(world, use(world, issued_at=None))
    # A SigV2 URL is measured from its first sighting, for its whole life: refused now as it was then.
    world.store.update_bucket("photos", max_link_lifetime=100)
    with pytest.raises(AccessDenied, match="maximum of 100 seconds"):
        admit(world, use(world, issued_at=None), first_seen=NOW - 60)
    assert admit(world, use(world, issued_at=None), first_seen=NOW - 40) is None


def test_issue_time_never_later_than_now_plus_skew(world: World) -> None:
    skew = MAX_SKEW_SECONDS
    assert admit(world, use(world, issued_at=NOW + skew, expires_at=NOW + skew + 60)) is None
    with pytest.raises(AccessDenied, match="Request is not valid yet"):
        admit(world, use(world, issued_at=NOW + skew + 1, expires_at=NOW + skew + 60))
    with pytest.raises(AccessDenied, match="Request is not valid yet"):  # a POST policy dated 2099
        admit(world, use(world, method="POST", issued_at=4_070_908_800.0, expires_at=4_070_908_900.0))


@pytest.mark.parametrize(
    ("scope", "target", "bucket", "revoked"),
    [
        (RevocationScope.OBJECT, "a.jpg", "photos", True),
        (RevocationScope.OBJECT, "b.jpg", "photos", False),
        (RevocationScope.OBJECT, "a.jpg", "other", False),
        (RevocationScope.PREFIX, "a.", "photos", True),
        (RevocationScope.PREFIX, "shared/", "photos", False),
        (RevocationScope.BUCKET, "photos", None, True),
        (RevocationScope.BUCKET, "videos", None, False),
        (RevocationScope.ACCESS_KEY, "AKOWNER", None, True),
        (RevocationScope.ACCESS_KEY, "AKMEMBER", None, False),
    ],
)
def test_revocation_scopes(world: World, scope: RevocationScope, target: str, bucket: str | None,
                           revoked: bool) -> None:
    named = world.store.get_bucket(target if scope is RevocationScope.BUCKET else bucket or "")
    world.store.add_revocation(Revocation("r", scope, target, bucket, before=NOW - 5, created=NOW - 1,
                                          bucket_id=named.id if named else None))
    if revoked:
        with pytest.raises(AccessDenied, match="revoked"):
            admit(world, use(world))
    else:
        assert admit(world, use(world)) is None
    # A client-dated link is covered up to the revocation moment plus the allowed skew (it may have
    # been dated ahead by that much), never after it.
    skew = MAX_SKEW_SECONDS
    if revoked:
        with pytest.raises(AccessDenied, match="revoked"):
            admit(world, use(world, issued_at=NOW - 6 + skew, expires_at=NOW + skew))
    assert admit(world, use(world, issued_at=NOW - 5 + skew, expires_at=NOW + skew)) is None
    # Server-dated issue times (a SigV2 URL's first sighting) are exact.
    assert admit(world, use(world, issued_at=None), first_seen=NOW - 5) is None
    if revoked:
        with pytest.raises(AccessDenied, match="revoked"):
            admit(world, use(world, issued_at=None), first_seen=NOW - 6)


@pytest.mark.parametrize(
    ("scope", "target", "listing", "revoked"),
    [
        (RevocationScope.PREFIX, "secret/", "", True),  # the whole bucket reveals secret/ keys
        (RevocationScope.PREFIX, "secret/", "se", True),
        (RevocationScope.PREFIX, "secret/", "secret/", True),
        (RevocationScope.PREFIX, "secret/", "secret/deep/", True),  # inside the revoked prefix
        (RevocationScope.PREFIX, "secret/", "public/", False),
        (RevocationScope.PREFIX, "secret/", "secretary", False),
        (RevocationScope.OBJECT, "secret/a.txt", "", True),
        (RevocationScope.OBJECT, "secret/a.txt", "secret/", True),
        (RevocationScope.OBJECT, "secret/a.txt", "secret/a.txtx", False),
        (RevocationScope.OBJECT, "secret/a.txt", "public/", False),
    ],
)
def test_object_and_prefix_revocations_cover_listings_that_reveal_them(
    world: World, scope: RevocationScope, target: str, listing: str, revoked: bool
) -> None:
    world.store.add_revocation(Revocation("r", scope, target, "photos", before=NOW - 5, created=NOW - 1,
                                          bucket_id=_photos_id(world)))
    listing_use = use(world, key=None, listing_prefix=listing)
    if revoked:
        with pytest.raises(AccessDenied, match="revoked"):
            admit(world, listing_use)
    else:
        assert admit(world, listing_use) is None
    elsewhere = use(world, bucket="other", key=None, listing_prefix=listing)
    assert admit(world, elsewhere) is None


def test_bucket_level_requests_check_each_key(world: World) -> None:
    world.store.add_revocation(Revocation("r", RevocationScope.PREFIX, "secret/", "photos", NOW - 5, NOW - 1,
                                          bucket_id=_photos_id(world)))
    gate = GenerationGate(world.store, ttl=0)
    admitted = admission(world, use(world, key=None, method="POST"))  # DeleteObjects: admitted as a whole
    admitted.check_key(RevocationList(world.store, gate), "public/x")
    with pytest.raises(AccessDenied, match="revoked"):
        admitted.check_key(RevocationList(world.store, gate), "secret/x")


def test_user_scope_revocation_and_links_without_issue_time(world: World) -> None:
    user = world.owner.user
    assert user is not None
    world.store.add_revocation(Revocation("r", RevocationScope.USER, user.id, None, NOW - 5, NOW - 1))
    with pytest.raises(AccessDenied):
        admit(world, use(world))
    assert admit(world, use(world, issued_at=None)) is None  # no issue time known at all


def registered(world: World, **changes: object) -> Link:
    user = world.owner.user
    assert user is not None
    photos = world.store.get_bucket("photos")
    assert photos is not None
    link = Link("L1", LinkKind.S3V4, user.id, "AKOWNER", "photos", "a.jpg", "GET", NOW - 100, NOW + 100,
                bucket_id=photos.id)
    link = replace(link, **changes)  # type: ignore[arg-type]
    world.store.create_links([link])
    return link


def test_registry_links_are_checked_against_the_request(world: World) -> None:
    registered(world)
    assert admit(world, use(world, link_id="L1")) is not None
    assert admit(world, use(world, link_id="L1", method="HEAD")) is not None
    for bad in (use(world, link_id="L1", key="b.jpg"), use(world, link_id="L1", method="PUT"),
                use(world, link_id="L1", principal=world.member), use(world, link_id="nope")):
        with pytest.raises(AccessDenied, match="not valid for this request"):
            admit(world, bad)


def test_registry_revocation_and_issue_time(world: World) -> None:
    registered(world)
    photos = world.store.get_bucket("photos")
    assert photos is not None
    world.store.add_revocation(Revocation("r", RevocationScope.BUCKET, "photos", None, NOW - 50, NOW,
                                          bucket_id=photos.id))
    # The registry's creation time counts, whatever the URL claims.
    with pytest.raises(AccessDenied, match="revoked"):
        admit(world, use(world, link_id="L1", issued_at=NOW))
    world.store.revoke_link("L1", NOW)
    with pytest.raises(AccessDenied, match="has been revoked"):
        admit(world, use(world, link_id="L1"))


def recreate_photos(world: World) -> None:
    """Delete "photos" and let a stranger create a bucket of the same name: a new bucket, a new id."""
    world.store.delete_object("photos", "a.jpg")
    world.store.delete_bucket("photos", NOW - 20)  # before the links these tests use are issued
    stranger = world.stranger.user
    assert stranger is not None
    world.store.create_bucket(Bucket("photos", stranger.account_id, stranger.id, 2.0))
    world.store.put_object(ObjectRecord("photos", "a.jpg", 3, "etag", 2.0, (Segment("c" * 32, 3),)))


def test_a_link_never_works_on_a_later_bucket_of_the_same_name(world: World) -> None:
    registered(world)
    recreate_photos(world)
    with pytest.raises(AccessDenied, match="not valid for this request"):
        admit(world, use(world, link_id="L1"))


def test_revocations_stay_with_their_bucket(world: World) -> None:
    old = world.store.get_bucket("photos")
    assert old is not None
    world.store.add_revocation(Revocation("r", RevocationScope.BUCKET, "photos", None, NOW - 5, NOW - 1,
                                          bucket_id=old.id))
    recreate_photos(world)
    assert admit(world, use(world)) is None  # the earlier bucket's revocation does not cover the new one


def test_management_follows_the_bucket_not_its_name(world: World) -> None:
    link = registered(world)
    recreate_photos(world)
    new_owner = Principal(world.stranger.user, "AKSTRANGER")
    assert not links.can_manage_link(world.store, new_owner, link)
    assert links.visible_links(world.store, new_owner, bucket="photos", key_prefix=None, active_at=None,
                               limit=10) == []
    with pytest.raises(NotFound):
        links.get_managed_link(world.store, new_owner, "L1")
    assert links.can_manage_link(world.store, world.owner, link)  # the signer keeps managing its own link


def test_registry_use_limit(world: World) -> None:
    registered(world, max_uses=1, uses=1)
    with pytest.raises(AccessDenied, match="no uses left"):
        admit(world, use(world, link_id="L1"))


def test_registry_refusal_names_the_state_the_management_api_shows(world: World) -> None:
    # Expired and used up at once: the refusal and `satchel links show` must agree on which it is.
    link = registered(world, max_uses=1, uses=1, expires=NOW - 1)
    assert link.state(NOW) == "expired"
    with pytest.raises(AccessDenied, match="expired"):
        admit(world, use(world, link_id="L1"))


def test_plan_links_only_for_objects_the_caller_may_access(world: World) -> None:
    spec = LinkSpec("photos", ("a.jpg", "missing.jpg"), expires_in=60)
    planned = links.plan_links(world.store, world.owner, world.key, spec, server_max=604800, now=NOW)
    assert planned[0].link is not None and planned[0].link.expires == NOW + 60
    # Ids are hex: one starting with "-" (possible in urlsafe base64) would read as a CLI option.
    assert len(planned[0].link.id) == 32 and int(planned[0].link.id, 16) >= 0
    assert isinstance(planned[1].error, NoSuchKey)
    denied = links.plan_links(world.store, world.member, world.key, spec, server_max=604800, now=NOW)
    assert all(isinstance(p.error, AccessDenied) for p in denied)
    put = replace(spec, method="PUT", keys=("new.bin",))
    assert links.plan_links(world.store, world.owner, world.key, put, server_max=604800, now=NOW)[0].link
    reader = links.plan_links(world.store, world.member, world.key, replace(put, keys=("shared/x",)),
                              server_max=604800, now=NOW)
    assert isinstance(reader[0].error, AccessDenied)  # a read grant does not let one mint PUT links


def test_plan_links_by_prefix_needs_the_listing_right(world: World) -> None:
    """The listing is authorized before any key is looked at: no per-key answers that would name keys."""
    world.store.put_object(ObjectRecord("photos", "shared/s.jpg", 3, "etag", 1.0, (Segment("c" * 32, 3),)))
    for principal, prefix in ((world.stranger, ""), (world.stranger, "shared/"), (world.member, ""),
                              (world.member, "a")):
        with pytest.raises(AccessDenied):
            links.plan_links(world.store, principal, world.key, LinkSpec("photos", (), prefix=prefix),
                             server_max=604800, now=NOW)
    # Listing shared/ is the member's right; sharing what it holds is not (a read grant without share).
    (planned,) = links.plan_links(world.store, world.member, world.key, LinkSpec("photos", (), prefix="shared/"),
                                  server_max=604800, now=NOW)
    assert planned.key == "shared/s.jpg" and isinstance(planned.error, AccessDenied)
    member = world.member.user
    assert member is not None
    grant = world.store.add_grant(member.id, "photos", "shared/", Permission.READ, share=True)
    sharer = replace(world.member, grants=(grant,))
    (planned,) = links.plan_links(world.store, sharer, world.key, LinkSpec("photos", (), prefix="shared/"),
                                  server_max=604800, now=NOW)
    assert planned.link is not None and planned.link.key == "shared/s.jpg"


def test_link_ids_are_hex_unique_and_ordered_by_minting_time() -> None:
    ids = links.new_link_ids(NOW, 1000)
    assert len(set(ids)) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert {i[:12] for i in ids} == {f"{int(NOW * 1000):012x}"}
    assert max(ids) < links.new_link_ids(NOW + 0.002, 1)[0] < links.new_link_ids(NOW + 3600, 1)[0]


def test_plan_links_answers_each_key_once_in_the_order_asked(world: World) -> None:
    spec = LinkSpec("photos", ("missing.jpg", "a.jpg", "missing.jpg", "a.jpg"), expires_in=60)
    planned = links.plan_links(world.store, world.owner, world.key, spec, server_max=604800, now=NOW)
    assert [p.key for p in planned] == ["missing.jpg", "a.jpg"]
    assert isinstance(planned[0].error, NoSuchKey) and planned[1].link is not None


@pytest.mark.parametrize(
    "spec",
    [
        LinkSpec("photos", ("a.jpg",), expires_in=0),
        LinkSpec("photos", ("a.jpg",), expires_in=604801),
        LinkSpec("photos", ("a.jpg",), method="POST"),
        LinkSpec("photos", ("a.jpg",), mode="preview"),
        LinkSpec("photos", ("a.jpg",), method="PUT", mode="download"),
        LinkSpec("photos", ("a.jpg",), max_uses=0),
        LinkSpec("photos", ()),
    ],
)
def test_plan_links_refuses_bad_specs(world: World, spec: LinkSpec) -> None:
    with pytest.raises(InvalidArgument):
        links.plan_links(world.store, world.owner, world.key, spec, server_max=604800, now=NOW)


def test_plan_links_respects_ceilings_and_missing_buckets(world: World) -> None:
    world.store.update_bucket("photos", max_link_lifetime=100)
    with pytest.raises(InvalidArgument, match="between 1 and 100"):
        links.plan_links(world.store, world.owner, world.key, LinkSpec("photos", ("a.jpg",), expires_in=101),
                         server_max=604800, now=NOW)
    with pytest.raises(NoSuchBucket):
        links.plan_links(world.store, world.owner, world.key, LinkSpec("nope", ("a",)), server_max=1, now=NOW)


def test_download_links_carry_a_safe_content_disposition(world: World) -> None:
    spec = LinkSpec("photos", ("a.jpg",), mode="download", filename='Ré"sumé.pdf')
    link = links.plan_links(world.store, world.owner, world.key, spec, server_max=604800, now=NOW)[0].link
    assert link is not None
    query = dict(links.link_query(link))
    assert query[links.LINK_ID_PARAM] == link.id
    assert query["response-content-disposition"] == (
        "attachment; filename=\"R__sum_.pdf\"; filename*=UTF-8''R%C3%A9%22sum%C3%A9.pdf"
    )


def test_who_may_manage_links_and_revocations(world: World) -> None:
    link = registered(world)
    store = world.store
    assert links.can_manage_link(store, world.owner, link)
    assert links.can_manage_link(store, world.admin, link)
    assert not links.can_manage_link(store, world.member, link)
    assert not links.can_manage_link(store, world.stranger, link)
    with pytest.raises(NotFound):
        links.get_managed_link(store, world.stranger, "L1")
    revocations.check_revocation_scope(store, world.owner, RevocationScope.BUCKET, "photos", None)
    with pytest.raises(AccessDenied):
        revocations.check_revocation_scope(store, world.member, RevocationScope.PREFIX, "shared/", "photos")
    member = world.member.user
    assert member is not None
    revocations.check_revocation_scope(store, world.admin, RevocationScope.USER, member.id, None)
    with pytest.raises(AccessDenied):
        revocations.check_revocation_scope(store, world.stranger, RevocationScope.USER, member.id, None)
    assert [x.id for x in links.visible_links(store, world.admin, bucket=None, key_prefix=None, active_at=None,
                                              limit=10)] == ["L1"]
    assert links.visible_links(store, world.member, bucket="photos", key_prefix=None, active_at=None,
                               limit=10) == []


def test_revocations_are_seen_by_whoever_oversees_them(world: World) -> None:
    """Made by a member: the member and its account's admins see it; on a bucket: whoever controls it."""
    store = world.store
    member, owner = world.member.user, world.owner.user
    assert member is not None and owner is not None
    by_member = revocations.new_revocation(world.member, RevocationScope.USER, member.id, None, NOW, NOW)
    on_bucket = revocations.new_revocation(world.admin, RevocationScope.BUCKET, "photos", None, NOW, NOW,
                                     bucket_id=links.current_bucket_id(store, "photos"))
    store.add_revocation(by_member)
    store.add_revocation(on_bucket)

    def seen(principal: Principal) -> set[str]:
        return {r.id for r in revocations.visible_revocations(store, principal)}

    assert seen(world.member) == {by_member.id}
    assert seen(world.admin) == {by_member.id, on_bucket.id}
    assert seen(world.owner) == {on_bucket.id}
    assert seen(world.stranger) == set()


def test_audit_visibility_is_decided_by_authorize(world: World) -> None:
    """AUDIT_READ: events about buckets one controls, and events signed by the users one acts for."""
    store = world.store
    users = {u.name: u.id for u in store.list_users()}
    buckets = {b.name: b.id for b in store.list_buckets()}

    def visible(principal: Principal) -> tuple[set[str], set[str]]:
        query = visible_to(store, principal, AuditQuery())
        assert query.visible_users is not None and query.visible_bucket_ids is not None
        return ({n for n, i in users.items() if i in query.visible_users},
                {n for n, i in buckets.items() if i in query.visible_bucket_ids})

    assert visible(world.owner) == ({"owner"}, {"photos"})
    assert visible(world.member) == ({"member"}, set())
    assert visible(world.admin) == ({"owner", "member", "admin"}, {"photos"})
    assert visible(world.stranger) == ({"stranger"}, set())
    with pytest.raises(AccessDenied):
        visible_to(store, Principal(None), AuditQuery())


def _photos_id(world: World) -> str:
    photos = world.store.get_bucket("photos")
    assert photos is not None
    return photos.id


V1, V2 = "1" * 32, "2" * 32


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        (LinkSpec("photos", ("a.jpg", "b.jpg"), version_id=V1), "one key"),
        (LinkSpec("photos", (), prefix="a", version_id=V1), "one key"),
        (LinkSpec("photos", ("a.jpg",), method="PUT", version_id=V1), "one key"),
        (LinkSpec("photos", ("a.jpg",), kind=LinkKind.SWIFT, version_id=V1), "swift"),
        (LinkSpec("photos", ("a.jpg",), version_id="null"), "null"),
        (LinkSpec("photos", ("a.jpg",), kind=LinkKind.SWIFT, max_uses=1), "max_uses"),
    ],
)
def test_plan_links_refuses_version_pins_it_cannot_keep(world: World, spec: LinkSpec, complaint: str) -> None:
    """A version pin names one object's bytes, read through the registry: never several keys, a prefix, a
    write, a TempURL (its query cannot carry the registry id), or the null version (its bytes change)."""
    with pytest.raises(InvalidArgument, match=complaint):
        links.plan_links(world.store, world.owner, world.key, spec, server_max=604800, now=NOW)


def test_a_version_pinned_link_names_its_version_and_only_a_version_that_holds_bytes(world: World) -> None:
    store = world.store
    store.set_bucket_versioning("photos", "Enabled")
    store.put_object(ObjectRecord("photos", "v.txt", 1, "e1", 2.0, (Segment("c" * 32, 1),), version_id=V1))
    store.put_object(ObjectRecord("photos", "v.txt", 1, "e2", 3.0, (Segment("d" * 32, 1),), version_id=V2))
    spec = LinkSpec("photos", ("v.txt",), expires_in=60, version_id=V1)
    (planned,) = links.plan_links(store, world.owner, world.key, spec, server_max=604800, now=NOW)
    assert planned.link is not None and planned.link.version_id == V1
    assert ("versionId", V1) in links.link_query(planned.link)
    (missing,) = links.plan_links(store, world.owner, world.key, replace(spec, version_id="9" * 32),
                                  server_max=604800, now=NOW)
    assert missing.link is None and isinstance(missing.error, NoSuchVersion)
    (denied,) = links.plan_links(store, world.stranger, world.key, spec, server_max=604800, now=NOW)
    assert denied.link is None and isinstance(denied.error, AccessDenied)


def test_only_an_active_user_acts_in_link_management(world: World) -> None:
    assert links.acting_user(world.owner) is world.owner.user
    with pytest.raises(AccessDenied):
        links.acting_user(Principal(user=None))
