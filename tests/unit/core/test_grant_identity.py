"""A grant names its bucket by id: one cached a moment before its bucket was deleted gives nothing on a
new bucket of the same name (the store deletes grants with their bucket; this is the second fence)."""

from __future__ import annotations

from satchel.core.access import Action, Resource, authorize, visible_buckets
from satchel.core.models import Bucket, Grant, Permission, Principal, Role, Status, User

BOB = User("bob", "acct-a", "bob", Role.MEMBER, Status.ACTIVE, 0.0)
OLD = Bucket("photos", "acct-b", "carol", 0.0, id="old-id")
NEW = Bucket("photos", "acct-b", "dave", 1.0, id="new-id")
GRANT = Grant("g", "bob", "photos", "", Permission.READ_WRITE, 0.0, bucket_id="old-id")


def test_a_grant_applies_to_its_bucket_only() -> None:
    bob = Principal(BOB, "AKBOB", (GRANT,))
    for action in (Action.BUCKET_READ, Action.OBJECT_READ, Action.OBJECT_WRITE):
        assert authorize(bob, action, Resource(OLD, "k"))
        assert not authorize(bob, action, Resource(NEW, "k"))
    assert visible_buckets(bob, [OLD]) == [OLD]
    assert visible_buckets(bob, [NEW]) == []
