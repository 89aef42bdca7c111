"""The offline backend: the admin commands on the data directory, through ``core/identity`` (which keeps
the data valid). Node-local and trusted, so it sees and changes every account.

CORS rules are read and written in the management API's JSON (S3's CORSConfiguration, boto3's shape),
parsed and checked by the very functions the API uses, so a file works the same both ways."""

from __future__ import annotations

from satchel.cli.backends import Row
from satchel.cli.output import account_row, bucket_row, grant_row, key_row, user_row
from satchel.cli.session import account_names, master_key, user_names
from satchel.config import Settings
from satchel.core import identity
from satchel.core.errors import Conflict, NoSuchBucket, NoSuchCORSConfiguration, NotFound
from satchel.core.models import Bucket, Permission, PublicAccessBlock, Role, Sharing, Status
from satchel.core.publicaccess import describe
from satchel.meta.store import Store


class StoreBackend:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def _account_id(self, name: str | None) -> str | None:
        return identity.account_by_name(self.store, name).id if name is not None else None

    # --- accounts ---------------------------------------------------------------------------------
    def accounts(self) -> list[Row]:
        return [account_row(a) for a in identity.list_accounts(self.store)]

    def create_account(self, name: str) -> Row:
        return account_row(identity.create_account(self.store, name))

    def delete_account(self, name: str) -> Row:
        account = identity.account_by_name(self.store, name)
        if account.name == identity.ROOT_NAME:
            raise Conflict("The node's operator account (root) cannot be deleted.")
        identity.delete_account(self.store, account.id)
        return {"id": account.id, "name": account.name, "deleted": True}

    # --- users ------------------------------------------------------------------------------------
    def users(self, account: str | None) -> list[Row]:
        names = account_names(self.store)
        return [user_row(u, names) for u in identity.list_users(self.store, self._account_id(account))]

    def create_user(self, name: str, account: str, role: str, password: str | None) -> Row:
        owner = identity.account_by_name(self.store, account)
        user = identity.create_user(self.store, owner.id, name, Role(role), password)
        return user_row(user, {owner.id: owner.name})

    def set_user_status(self, name: str, status: str) -> Row:
        user = identity.set_user_status(self.store, identity.user_by_name(self.store, name).id, Status(status))
        return user_row(user, account_names(self.store))

    def delete_user(self, name: str) -> Row:
        user = identity.user_by_name(self.store, name)
        identity.delete_user(self.store, user.id)
        return {"id": user.id, "name": user.name, "deleted": True}

    # --- access keys ------------------------------------------------------------------------------
    def keys(self, user: str | None) -> list[Row]:
        user_id = identity.user_by_name(self.store, user).id if user is not None else None
        names = user_names(self.store)
        return [key_row(k, names) for k in identity.list_access_keys(self.store, user_id)]

    def create_key(self, user: str) -> tuple[str, Row]:
        owner = identity.user_by_name(self.store, user)
        key = identity.create_access_key(self.store, master_key(self.settings, self.store), owner.id)
        return owner.name, {"access_key_id": key.access_key_id, "secret_access_key": key.secret}

    def set_key_status(self, access_key_id: str, status: str) -> Row:
        identity.access_key(self.store, access_key_id)
        key = identity.set_access_key_status(self.store, access_key_id, Status(status))
        return key_row(key, user_names(self.store))

    def delete_key(self, access_key_id: str) -> None:
        identity.access_key(self.store, access_key_id)
        identity.delete_access_key(self.store, access_key_id)

    # --- grants -----------------------------------------------------------------------------------
    def grants(self, user: str | None, bucket: str | None) -> list[Row]:
        user_id = identity.user_by_name(self.store, user).id if user is not None else None
        names = user_names(self.store)
        return [grant_row(g, names) for g in identity.list_grants(self.store, user_id=user_id, bucket=bucket)]

    def add_grant(self, user: str, bucket: str, permission: str, prefix: str, share: bool) -> Row:
        grantee = identity.user_by_name(self.store, user)
        grant = identity.add_grant(self.store, grantee.id, bucket, Permission(permission), prefix=prefix,
                                   share=share)
        return grant_row(grant, {grantee.id: grantee.name})

    def remove_grant(self, grant_id: str) -> None:
        try:
            identity.remove_grant(self.store, grant_id)
        except NotFound:
            raise NotFound(f"no grant with id {grant_id!r}") from None

    # --- buckets ----------------------------------------------------------------------------------
    def _bucket_row(self, bucket: Bucket) -> Row:
        return bucket_row(bucket, account_names(self.store), user_names(self.store))

    def buckets(self, account: str | None) -> list[Row]:
        account_id = self._account_id(account)
        accounts, users = account_names(self.store), user_names(self.store)
        return [bucket_row(b, accounts, users) for b in identity.list_buckets(self.store, account_id)]

    def set_public(self, bucket: str, public: bool) -> Row:
        return self._bucket_row(identity.set_bucket_public(self.store, bucket, public))

    def set_link_lifetime(self, bucket: str, seconds: int | None) -> Row:
        return self._bucket_row(identity.set_bucket_link_lifetime(self.store, bucket, seconds))

    def set_sharing(self, bucket: str, sharing: str) -> Row:
        return self._bucket_row(identity.set_bucket_sharing(self.store, bucket, Sharing(sharing)))

    def set_owner(self, bucket: str, user: str | None) -> Row:
        owner_id = identity.user_by_name(self.store, user).id if user is not None else None
        return self._bucket_row(self.store.set_bucket_owner(bucket, owner_id))

    # --- Block Public Access of an account -----------------------------------------------------
    def public_access_block(self, account: str) -> Row:
        block = self.store.get_account_public_block(identity.account_by_name(self.store, account).id)
        return describe(account, block)

    def set_public_access_block(self, account: str, flags: dict[str, bool] | None) -> Row:
        block = PublicAccessBlock(**flags) if flags is not None else None
        identity.set_account_public_block(self.store, account, block)
        return describe(account, block)

    # --- CORS -------------------------------------------------------------------------------------
    def cors(self, bucket: str) -> Row:
        from satchel.admin.nodeschemas import cors_json

        found = self.store.get_bucket(bucket)
        if found is None:
            raise NoSuchBucket(BucketName=bucket)
        if not found.cors:
            raise NoSuchCORSConfiguration(BucketName=bucket)
        return cors_json(found.cors)

    def set_cors(self, bucket: str, configuration: bytes) -> Row:
        from satchel.admin.nodeschemas import cors_json, cors_request

        rules = cors_request(configuration)
        self.store.update_bucket(bucket, cors=rules)
        return cors_json(rules)

    def delete_cors(self, bucket: str) -> None:
        self.store.update_bucket(bucket, cors=None)
