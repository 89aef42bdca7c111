"""The remote backend: the admin commands as signed calls to a running server's management API.

The server decides every call with ``authorize()`` for the caller's access key, so an account admin
manages its own account (and the buckets it controls), a member gets a clean AccessDenied, and the
answer's error (403, 404, 409, ...) is printed as the API gave it (exit 1, see ``apiclient.ApiError``).

The API answers names where the store has ids (and the other way round); each answer is turned back
into the models the offline rows are made from, so both backends print the same fields. Ids the
caller may not see (a grantee or bucket owner in another account) are shown as null, and an account
as its id when the server does not list account names to the caller.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import click

from satchel.cli.apiclient import ApiClient, ApiError, path_segment
from satchel.cli.backends import Row
from satchel.cli.output import account_row, bucket_row, grant_row, key_row, user_row
from satchel.core.models import Account, Bucket, Grant, Permission, Role, Sharing, Status, User
from satchel.meta.store import StoredKey

#: The API says whether a user has a password, never its hash; the rows only ask whether there is one.
_SOME_PASSWORD = "(set)"  # noqa: S105 (a marker, not a password)


class ApiBackend:
    def __init__(self, client: ApiClient) -> None:
        self.client = client

    # --- what the rows need to show names and ids ---------------------------------------------------
    @cached_property
    def _accounts(self) -> list[Account]:
        try:
            answer = self.client.get("/accounts")
        except ApiError as exc:
            if exc.status in (403, 404, 405):  # an older server, or a caller who may not list accounts
                return []
            raise
        return [_account(a) for a in answer["accounts"]]

    @property
    def _account_names(self) -> dict[str, str]:
        return {a.id: a.name for a in self._accounts}

    @cached_property
    def _users(self) -> list[User]:
        return [_user(u) for u in self.client.get("/users")["users"]]

    def _user_id(self, name: str | None) -> str | None:
        return next((u.id for u in self._users if u.name == name), None)

    def _account_id(self, account: str) -> str:
        """The id of the account named ``account`` (a name, or the id itself)."""
        for found in self._accounts:
            if account in (found.name, found.id):
                return found.id
        if self._accounts:
            raise click.ClickException(f"no account named {account!r}")
        return account  # the server names no accounts: the id is all that can be matched

    # --- accounts ---------------------------------------------------------------------------------
    def accounts(self) -> list[Row]:
        return [account_row(_account(a)) for a in self.client.get("/accounts")["accounts"]]

    def create_account(self, name: str) -> Row:
        return account_row(_account(self.client.post("/accounts", {"name": name})))

    def delete_account(self, name: str) -> Row:
        account = _account(self.client.get(f"/accounts/{path_segment(name)}"))
        self.client.delete(f"/accounts/{path_segment(name)}")
        return {"id": account.id, "name": account.name, "deleted": True}

    # --- users ------------------------------------------------------------------------------------
    def users(self, account: str | None) -> list[Row]:
        account_id = self._account_id(account) if account is not None else None
        return [user_row(u, self._account_names) for u in self._users
                if account_id is None or u.account_id == account_id]

    def create_user(self, name: str, account: str, role: str, password: str | None) -> Row:
        caller = self.client.get("/whoami")
        # The account as the server shows it to the caller: AccessDenied when it may not see it (a member).
        target = _account(self.client.get(f"/accounts/{path_segment(account)}"))
        if target.id != caller["account_id"]:
            raise click.ClickException(
                f"over the API a user is created in the caller's own account, not in {target.name!r}: "
                "use an access key of an administrator of that account")
        body: dict[str, Any] = {"name": name, "role": role}
        if password is not None:
            body["password"] = password
        return user_row(_user(self.client.post("/users", body)), self._account_names)

    def set_user_status(self, name: str, status: str) -> Row:
        answer = self.client.call("PUT", f"/users/{path_segment(name)}", body={"status": status})
        return user_row(_user(answer), self._account_names)

    def delete_user(self, name: str) -> Row:
        user_id = self._user_id(name)
        self.client.delete(f"/users/{path_segment(name)}")
        return {"id": user_id, "name": name, "deleted": True}

    # --- access keys ------------------------------------------------------------------------------
    def _key_row(self, answer: dict[str, Any]) -> Row:
        user_id = self._user_id(answer["user"])
        key = StoredKey(answer["access_key_id"], user_id or "", b"", Status(answer["status"]), answer["created"])
        return {**key_row(key, {key.user_id: answer["user"]}), "user_id": user_id}

    def keys(self, user: str | None) -> list[Row]:
        answer = self.client.get("/access-keys", {"user": user if user is not None else "*"})
        return [self._key_row(k) for k in answer["access_keys"]]

    def create_key(self, user: str) -> tuple[str, Row]:
        answer = self.client.post("/access-keys", {"user": user})
        return answer["user"], {"access_key_id": answer["access_key_id"],
                                "secret_access_key": answer["secret_access_key"]}

    def set_key_status(self, access_key_id: str, status: str) -> Row:
        return self._key_row(self.client.call("PUT", f"/access-keys/{path_segment(access_key_id)}",
                                              body={"status": status}))

    def delete_key(self, access_key_id: str) -> None:
        self.client.delete(f"/access-keys/{path_segment(access_key_id)}")

    # --- grants -----------------------------------------------------------------------------------
    def _grant_row(self, answer: dict[str, Any]) -> Row:
        user_id = self._user_id(answer["user"])
        grant = Grant(answer["id"], user_id or "", answer["bucket"], answer["prefix"],
                      Permission(answer["permission"]), answer["created"], share=answer["share"])
        return {**grant_row(grant, {grant.user_id: answer["user"]}), "user_id": user_id}

    def grants(self, user: str | None, bucket: str | None) -> list[Row]:
        return [self._grant_row(g) for g in self.client.get("/grants")["grants"]
                if (user is None or g["user"] == user) and (bucket is None or g["bucket"] == bucket)]

    def add_grant(self, user: str, bucket: str, permission: str, prefix: str, share: bool) -> Row:
        return self._grant_row(self.client.post("/grants", {"user": user, "bucket": bucket, "prefix": prefix,
                                                            "permission": permission, "share": share}))

    def remove_grant(self, grant_id: str) -> None:
        self.client.delete(f"/grants/{path_segment(grant_id)}")

    # --- buckets ----------------------------------------------------------------------------------
    def _bucket_row(self, answer: dict[str, Any]) -> Row:
        owner = answer["owner_user"] if answer["owner"] == "user" else None
        owner_id = self._user_id(owner) if owner is not None else None
        bucket = Bucket(answer["name"], answer["account_id"], owner_id or owner, answer["created"],
                        public_read=answer["public_read"], max_link_lifetime=answer["max_link_lifetime"],
                        sharing=Sharing(answer["sharing"]))
        row = bucket_row(bucket, self._account_names, {bucket.owner_user_id or "": owner or ""})
        return {**row, "owner_user_id": owner_id}

    def _listed(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client.get("/buckets")["buckets"]
        return found

    def buckets(self, account: str | None) -> list[Row]:
        account_id = self._account_id(account) if account is not None else None
        return [self._bucket_row(b) for b in self._listed() if account_id is None or b["account_id"] == account_id]

    def set_public(self, bucket: str, public: bool) -> Row:
        answer = self.client.call("PUT", f"/buckets/{path_segment(bucket)}/settings", body={"public_read": public})
        return self._bucket_row(answer)

    def _set_link_policy(self, bucket: str, change: dict[str, Any]) -> Row:
        self.client.call("PUT", f"/buckets/{path_segment(bucket)}/link-policy", body=change)
        return self._bucket_row(self.client.get(f"/buckets/{path_segment(bucket)}"))

    def set_link_lifetime(self, bucket: str, seconds: int | None) -> Row:
        return self._set_link_policy(bucket, {"max_link_lifetime": seconds})

    def set_sharing(self, bucket: str, sharing: str) -> Row:
        return self._set_link_policy(bucket, {"sharing": sharing})

    def set_owner(self, bucket: str, user: str | None) -> Row:
        body = {"owner": "user", "user": user} if user is not None else {"owner": "account"}
        return self._bucket_row(self.client.call("PUT", f"/buckets/{path_segment(bucket)}/owner", body=body))

    # --- Block Public Access of an account (the API's JSON is the rows' shape) ----------------------
    def public_access_block(self, account: str) -> Row:
        answer: Row = self.client.get(f"/accounts/{path_segment(account)}/public-access-block")
        return answer

    def set_public_access_block(self, account: str, flags: dict[str, bool] | None) -> Row:
        path = f"/accounts/{path_segment(account)}/public-access-block"
        if flags is None:
            self.client.delete(path)
            return self.public_access_block(account)
        answer: Row = self.client.call("PUT", path, body=flags)
        return answer

    # --- CORS (the API's JSON is the rows' shape) ---------------------------------------------------
    def cors(self, bucket: str) -> Row:
        answer: Row = self.client.get(f"/buckets/{path_segment(bucket)}/cors")
        return answer

    def set_cors(self, bucket: str, configuration: bytes) -> Row:
        try:
            parsed = json.loads(configuration)
        except ValueError as exc:
            raise click.ClickException(f"the CORS configuration is not JSON: {exc}") from None
        answer: Row = self.client.call("PUT", f"/buckets/{path_segment(bucket)}/cors", body=parsed)
        return answer

    def delete_cors(self, bucket: str) -> None:
        self.client.delete(f"/buckets/{path_segment(bucket)}/cors")


def _account(answer: dict[str, Any]) -> Account:
    return Account(answer["id"], answer["name"], answer["created"])


def _user(answer: dict[str, Any]) -> User:
    return User(answer["id"], answer["account_id"], answer["name"], Role(answer["role"]), Status(answer["status"]),
                answer["created"], _SOME_PASSWORD if answer.get("has_password") else None)
