"""Accounts ("contracts") as the management API administers them: list, create, show, delete.

Who may: the node's operators — the admins of the operator account, the ``root`` account the first start
creates (``identity.bootstrap``) — through ``authorize(NODE_ADMIN)`` on that account (access.py rule 11).
An account's own admins may see it (``ACCOUNT_ADMIN``), and only it. The admin CLI, which is node-local
and trusted, calls ``core/identity`` directly.

Deleting an account is refused (409 Conflict) while it still has users or buckets, and always for the
operator account: the node would have nobody left who may administer it.
"""

from __future__ import annotations

from dataclasses import dataclass

from satchel.core import identity
from satchel.core.access import Action, Resource, authorize
from satchel.core.errors import AccessDenied, Conflict
from satchel.core.models import Account, Principal
from satchel.core.node import Node


@dataclass(frozen=True)
class AccountView:
    """An account with what an operator asks about it first."""

    account: Account
    operator: bool
    users: int
    buckets: int


def _acting(principal: Principal) -> None:
    if principal.active_user is None or principal.via_link:
        raise AccessDenied()


def _operator_id(node: Node) -> str | None:
    root = node.store.get_account_by_name(identity.ROOT_NAME)
    return root.id if root is not None else None


def is_operator(node: Node, principal: Principal) -> bool:
    operator = _operator_id(node)
    return operator is not None and authorize(principal, Action.NODE_ADMIN, Resource(None, account_id=operator))


def _require_operator(node: Node, principal: Principal) -> None:
    _acting(principal)
    if not is_operator(node, principal):
        raise AccessDenied("Only administrators of the node's operator account (root) manage accounts.")


def _may_see(node: Node, principal: Principal, account: Account) -> bool:
    return is_operator(node, principal) or authorize(
        principal, Action.ACCOUNT_ADMIN, Resource(None, account_id=account.id))


def _view(node: Node, account: Account) -> AccountView:
    return AccountView(account, account.id == _operator_id(node), len(node.store.list_users(account.id)),
                       len(node.store.list_buckets(account.id)))


def list_accounts(node: Node, principal: Principal) -> list[AccountView]:
    """Every account for an operator; an account admin's own; nothing for a member."""
    _acting(principal)
    return [_view(node, a) for a in identity.list_accounts(node.store) if _may_see(node, principal, a)]


def show_account(node: Node, principal: Principal, name: str) -> AccountView:
    """An account that does not exist and one the caller may not see are the same refusal, so account
    names (the node's customers) cannot be probed; operators get NotFound."""
    _acting(principal)
    account = node.store.get_account_by_name(name)
    if account is None and is_operator(node, principal):
        identity.account_by_name(node.store, name)  # NotFound
    if account is None or not _may_see(node, principal, account):
        raise AccessDenied()
    return _view(node, account)


async def create_account(node: Node, principal: Principal, name: str) -> AccountView:
    _require_operator(node, principal)
    account: Account = await node.write(identity.create_account, node.store, name)
    return await node.read(_view, node, account)


async def delete_account(node: Node, principal: Principal, name: str) -> None:
    _require_operator(node, principal)
    account = identity.account_by_name(node.store, name)
    if account.id == await node.read(_operator_id, node):
        raise Conflict("The node's operator account cannot be deleted.")
    await node.write(identity.delete_account, node.store, account.id)
