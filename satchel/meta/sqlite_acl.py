"""S3 ACLs and Block Public Access on SQLite (mixed into ``SqliteStore``).

A bucket's ACL and its Block Public Access flags are columns of its row (read with the bucket, through the
per-worker cache: ``authorize()`` needs them on every request); its account's flags are one row of
``acl_account_blocks``, joined in when a bucket is read (``rows.BUCKET_SELECT``). An object's ACL is a column of
its row: an overwrite replaces it, as on S3.
"""

from __future__ import annotations

from satchel.core.errors import NoSuchBucket, NoSuchKey, NoSuchVersion
from satchel.core.models import AclGrant, Bucket, PublicAccessBlock
from satchel.meta import rows
from satchel.meta.sqlite_db import SqliteDatabase


class SqliteAcl:
    _db: SqliteDatabase

    def set_bucket_acl(self, name: str, acl: tuple[AclGrant, ...], public_read: bool) -> Bucket:
        """Replace the bucket's ACL: its grants and its public flag (AllUsers READ) together."""
        return self._bucket_change(name, "UPDATE buckets SET acl = ?, public_read = ? WHERE name = ?",
                                   (rows.dump_acl(acl), int(public_read), name))

    def set_bucket_public_block(self, name: str, block: PublicAccessBlock | None) -> Bucket:
        return self._bucket_change(name, "UPDATE buckets SET acl_block = ? WHERE name = ?",
                                   (rows.dump_block(block), name))

    def _bucket_change(self, name: str, sql: str, params: tuple[object, ...]) -> Bucket:
        with self._db.transaction() as c:
            if c.execute(sql, params).rowcount == 0:
                raise NoSuchBucket(BucketName=name)
            c.execute(rows.BUMP_GENERATION)
            row = c.execute(rows.BUCKET_SELECT + " WHERE name = ?", (name,)).fetchone()
        return rows.bucket(row)

    def get_account_public_block(self, account_id: str) -> PublicAccessBlock | None:
        row = self._db.conn().execute("SELECT flags FROM acl_account_blocks WHERE account_id = ?",
                                      (account_id,)).fetchone()
        return rows.load_block(row[0]) if row else None

    def set_account_public_block(self, account_id: str, block: PublicAccessBlock | None) -> None:
        """Set (or, with None, delete) the account's flags; every cached bucket of it is read again."""
        with self._db.transaction() as c:
            if block is None:
                c.execute("DELETE FROM acl_account_blocks WHERE account_id = ?", (account_id,))
            else:
                c.execute("INSERT INTO acl_account_blocks (account_id, flags) VALUES (?, ?) "
                          "ON CONFLICT (account_id) DO UPDATE SET flags = excluded.flags",
                          (account_id, rows.dump_block(block)))
            c.execute(rows.BUMP_GENERATION)

    def set_object_acl(self, bucket: str, key: str, etag: str, last_modified: float,
                       acl: tuple[AclGrant, ...], version_id: str | None = None) -> None:
        """Replace the ACL of the object ``key`` — only the version of that ETag and date: an overwrite made
        meanwhile is another object, which keeps its own ACL (NoSuchKey then, as if it had been deleted).
        With ``version_id``, the ACL of that version wherever it is (current or noncurrent), checked the same
        way (NoSuchVersion when it is gone or, as a null version, was replaced)."""
        match = (bucket, key, etag, last_modified)
        with self._db.transaction() as c:
            if version_id is None:
                changed = c.execute("UPDATE objects SET acl = ? WHERE bucket = ? AND key = ? AND etag = ? "
                                    "AND last_modified = ?", (rows.dump_acl(acl), *match)).rowcount
            else:
                changed = c.execute("UPDATE objects SET acl = ? WHERE bucket = ? AND key = ? AND etag = ? "
                                    "AND last_modified = ? AND COALESCE(version_id, 'null') = ?",
                                    (rows.dump_acl(acl), *match, version_id)).rowcount
                changed = changed or c.execute(
                    "UPDATE object_versions SET acl = ? WHERE bucket = ? AND key = ? AND etag = ? "
                    "AND last_modified = ? AND version_id = ? AND delete_marker = 0",
                    (rows.dump_acl(acl), *match, version_id)).rowcount
        if not changed:
            raise NoSuchKey(Key=key) if version_id is None else NoSuchVersion(Key=key, VersionId=version_id)
