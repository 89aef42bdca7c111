"""Access keys, users and grants as the management API (and so the console) changes them: each call is
``authorize()`` first (``KEY_ADMIN``, ``USER_ADMIN``, ``BUCKET_ADMIN``), then ``core/identity``, which keeps
the data valid. The admin CLI, which is node-local and trusted, calls ``core/identity`` directly."""

from __future__ import annotations

from satchel.core import identity
from satchel.core.access import Action, Resource, authorize
from satchel.core.buckets import bucket_for
from satchel.core.errors import AccessDenied, NotFound
from satchel.core.masterkey import MasterKey
from satchel.core.models import AccessKey, Grant, Permission, Principal, Role, Status, User
from satchel.core.node import Node
from satchel.meta.store import StoredKey


def _acting(principal: Principal) -> User:
    user = principal.active_user
    if user is None or principal.via_link:
        raise AccessDenied()
    return user


def subject_user(node: Node, principal: Principal, action: Action, name: str | None) -> User:
    """The user named (default: the caller) when the caller may act on it; a user that does not exist
    and one the caller may not act for are the same refusal, so names cannot be probed."""
    caller = _acting(principal)
    user = caller if not name else node.store.get_user_by_name(name)
    if user is None or not authorize(principal, action, Resource(None, subject=user)):
        raise AccessDenied("You may not manage this user." if user is not None else None)
    return user


# --- access keys ------------------------------------------------------------------------------------
def list_keys(node: Node, principal: Principal, user_name: str | None) -> list[tuple[StoredKey, User]]:
    """The keys of one user (default: the caller), or with ``"*"`` of every user the caller may manage."""
    if user_name == "*":
        users = [u for u in node.store.list_users()
                 if authorize(principal, Action.KEY_ADMIN, Resource(None, subject=u))]
    else:
        users = [subject_user(node, principal, Action.KEY_ADMIN, user_name)]
    return [(key, user) for user in users for key in identity.list_access_keys(node.store, user.id)]


async def create_key(node: Node, master_key: MasterKey, principal: Principal, user_name: str | None) -> AccessKey:
    user = await node.read(subject_user, node, principal, Action.KEY_ADMIN, user_name)
    key: AccessKey = await node.write(identity.create_access_key, node.store, master_key, user.id)
    return key


def _managed_key(node: Node, principal: Principal, access_key_id: str) -> StoredKey:
    stored = node.store.get_access_key(access_key_id)
    owner = node.store.get_user(stored.user_id) if stored is not None else None
    if stored is None or owner is None or not authorize(principal, Action.KEY_ADMIN, Resource(None, subject=owner)):
        raise AccessDenied()
    return stored


async def set_key_status(node: Node, principal: Principal, access_key_id: str, status: Status) -> StoredKey:
    """Disabling a key kills every link it signed, at once. Enabling one brings them back, so it is an
    account admin's action (``USER_ADMIN`` over the key's user): a member whose key an admin disabled
    must not undo that on its own."""
    stored = await node.read(_managed_key, node, principal, access_key_id)
    owner = await node.read(node.store.get_user, stored.user_id)
    if status is Status.ACTIVE and stored.status is not Status.ACTIVE and (
            owner is None or not authorize(principal, Action.USER_ADMIN, Resource(None, subject=owner))):
        raise AccessDenied("Only an account administrator can enable a disabled access key.")
    updated: StoredKey = await node.write(identity.set_access_key_status, node.store, access_key_id, status)
    return updated


async def delete_key(node: Node, principal: Principal, access_key_id: str) -> None:
    await node.read(_managed_key, node, principal, access_key_id)
    await node.write(identity.delete_access_key, node.store, access_key_id)


# --- users ------------------------------------------------------------------------------------------
def list_users(node: Node, principal: Principal) -> list[User]:
    """The users of the caller's account, for its admins; members see themselves."""
    caller = _acting(principal)
    return [u for u in node.store.list_users(caller.account_id)
            if u.id == caller.id or authorize(principal, Action.USER_ADMIN, Resource(None, subject=u))]


async def create_user(node: Node, principal: Principal, name: str, role: Role, password: str | None) -> User:
    caller = _acting(principal)
    prospective = User("", caller.account_id, name, role, Status.ACTIVE, 0.0)
    if not authorize(principal, Action.USER_ADMIN, Resource(None, subject=prospective)):
        raise AccessDenied("Only account administrators can create users.")
    user: User = await node.write(identity.create_user, node.store, caller.account_id, name, role, password)
    return user


async def update_user(node: Node, principal: Principal, name: str, *, status: Status | None = None,
                      role: Role | None = None, password: str | None = None) -> User:
    user = await node.read(subject_user, node, principal, Action.USER_ADMIN, name)
    if user.id == _acting(principal).id and (status is Status.DISABLED or role is Role.MEMBER):
        raise AccessDenied("You cannot disable yourself or give up your own administrator role.")
    if status is not None:
        user = await node.write(identity.set_user_status, node.store, user.id, status)
    if role is not None:
        user = await node.write(node.store.update_user, user.id, role=role)
    if password is not None:
        user = await node.write(identity.set_password, node.store, user.id, password)
        # A new password ends the user's console sessions: whoever knew the old one is signed out.
        await node.write(node.store.delete_sessions, user_id=user.id)
    return user


async def delete_user(node: Node, principal: Principal, name: str) -> None:
    user = await node.read(subject_user, node, principal, Action.USER_ADMIN, name)
    if user.id == _acting(principal).id:
        raise AccessDenied("You cannot delete yourself.")
    await node.write(identity.delete_user, node.store, user.id)


# --- grants -----------------------------------------------------------------------------------------
def list_grants(node: Node, principal: Principal) -> list[Grant]:
    """Grants on buckets the caller controls, and grants to users it manages."""
    caller = _acting(principal)
    out = []
    for grant in node.store.list_grants():
        bucket = node.bucket(grant.bucket)
        grantee = node.store.get_user(grant.user_id)
        if grant.user_id == caller.id or (bucket is not None and authorize(
                principal, Action.BUCKET_ADMIN, Resource(bucket))) or (grantee is not None and authorize(
                principal, Action.USER_ADMIN, Resource(None, subject=grantee))):
            out.append(grant)
    return out


async def add_grant(node: Node, principal: Principal, user_name: str, bucket: str, permission: Permission,
                    prefix: str, share: bool) -> Grant:
    """Needs control of the bucket; the grantee may be any user (grants are how a bucket is shared with
    another contract), named exactly."""
    _acting(principal)
    bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    grantee = await node.read(node.store.get_user_by_name, user_name)
    if grantee is None:
        raise NotFound(f"No user named {user_name!r}.")
    grant: Grant = await node.write(identity.add_grant, node.store, grantee.id, bucket, permission, prefix,
                                    share=share)
    return grant


async def remove_grant(node: Node, principal: Principal, grant_id: str) -> None:
    found = [g for g in await node.read(list_grants, node, principal) if g.id == grant_id]
    if not found:
        raise AccessDenied()
    bucket_for(node, principal, found[0].bucket, Action.BUCKET_ADMIN)
    await node.write(identity.remove_grant, node.store, grant_id)
