"""Rows to dataclasses and back, shared by every SQL dialect.

Each table has a column list (the order of ``SELECT`` results and ``INSERT`` parameters) and a pair of
functions. They are hand-written rather than reflected because they sit on the hot path of every
request: one tuple in, one frozen dataclass out, no per-row dictionary.

JSON columns hold compact text; an empty mapping is stored as ``{}`` and decoded without calling the
JSON parser, because most objects carry no metadata at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson

from satchel.core.models import (
    Account,
    AclGrant,
    Bucket,
    CorsRule,
    Grant,
    ObjectRecord,
    Part,
    Permission,
    PublicAccessBlock,
    Role,
    Segment,
    Sharing,
    Status,
    Upload,
    User,
)
from satchel.meta.store import StoredKey

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
#: orjson on the read side: every GET decodes its object's segments and headers (1.4 µs with json, 0.3).
_decode = orjson.loads

ACCOUNT_COLUMNS = "id, name, created"
USER_COLUMNS = "id, account_id, name, role, status, created, password_hash"
KEY_COLUMNS = "access_key_id, user_id, secret_ciphertext, status, created"
GRANT_COLUMNS = "id, user_id, bucket, prefix, permission, created, bucket_id, share"
BUCKET_COLUMNS = (
    "name, account_id, owner_user_id, created, public_read, cors, max_link_lifetime, id, sharing, links_since, policy, "
    "acl, acl_block"
)
#: What a bucket is read with: its columns and its account's Block Public Access flags.
BUCKET_SELECT = (f"SELECT {BUCKET_COLUMNS}, (SELECT flags FROM acl_account_blocks"  # noqa: S608 - constants
                 " WHERE acl_account_blocks.account_id = buckets.account_id) FROM buckets")
OBJECT_COLUMNS = (
    "bucket, key, size, etag, last_modified, segments, headers, user_meta, checksums, parts_count, "
    "owner_user_id, acl, version_id"
)
UPLOAD_COLUMNS = (
    "upload_id, bucket, key, initiated, owner_user_id, headers, user_meta, checksum_algorithm, acl"
)
PART_COLUMNS = "upload_id, part_number, size, etag, blob_id, last_modified, checksums"


def placeholders(columns: str) -> str:
    """``?, ?, ...`` for a column list (the sqlite3 / DB-API ``qmark`` style)."""
    return ", ".join("?" for _ in columns.split(","))


def dump_map(value: dict[str, str]) -> str:
    return _encode(value) if value else "{}"


def load_map(text: str) -> dict[str, str]:
    if text == "{}":
        return {}
    result: dict[str, str] = _decode(text)
    return result


def dump_segments(segments: Sequence[Segment]) -> str:
    return _encode([[s.blob_id, s.size] for s in segments])


def load_segments(text: str) -> tuple[Segment, ...]:
    pairs = _decode(text)
    if len(pairs) == 1:  # the common case, on every GET: skip the generic loop
        return (Segment(pairs[0][0], pairs[0][1]),)
    return tuple([Segment(blob_id, size) for blob_id, size in pairs])


def dump_cors(rules: tuple[CorsRule, ...] | None) -> str | None:
    if rules is None:
        return None
    return _encode(
        [
            {
                "allowed_origins": list(r.allowed_origins),
                "allowed_methods": list(r.allowed_methods),
                "allowed_headers": list(r.allowed_headers),
                "expose_headers": list(r.expose_headers),
                "max_age_seconds": r.max_age_seconds,
                "id": r.id,
            }
            for r in rules
        ]
    )


def load_cors(text: str | None) -> tuple[CorsRule, ...] | None:
    if text is None:
        return None
    return tuple(
        CorsRule(
            allowed_origins=tuple(r["allowed_origins"]),
            allowed_methods=tuple(r["allowed_methods"]),
            allowed_headers=tuple(r["allowed_headers"]),
            expose_headers=tuple(r["expose_headers"]),
            max_age_seconds=r["max_age_seconds"],
            id=r["id"],
        )
        for r in _decode(text)
    )


def account(row: Sequence[Any]) -> Account:
    return Account(row[0], row[1], row[2])


def user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], row[2], Role(row[3]), Status(row[4]), row[5], row[6])


def stored_key(row: Sequence[Any]) -> StoredKey:
    return StoredKey(row[0], row[1], bytes(row[2]), Status(row[3]), row[4])


def grant(row: Sequence[Any]) -> Grant:
    return Grant(row[0], row[1], row[2], row[3], Permission(row[4]), row[5], row[6], bool(row[7]))


def bucket(row: Sequence[Any]) -> Bucket:
    return Bucket(row[0], row[1], row[2], row[3], bool(row[4]), load_cors(row[5]), row[6], row[7],
                  Sharing(row[8]), row[9], policy=row[10], acl=load_acl(row[11]), public_block=load_block(row[12]),
                  account_public_block=load_block(row[13]) if len(row) > 13 else None)


def bucket_params(b: Bucket) -> tuple[Any, ...]:
    return (
        b.name,
        b.account_id,
        b.owner_user_id,
        b.created,
        int(b.public_read),
        dump_cors(b.cors),
        b.max_link_lifetime,
        b.id,
        b.sharing.value,
        b.links_since,
        b.policy,
        dump_acl(b.acl),
        dump_block(b.public_block),
    )


def object_record(row: Sequence[Any]) -> ObjectRecord:
    return ObjectRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        load_segments(row[5]),
        load_map(row[6]),
        load_map(row[7]),
        load_map(row[8]),
        row[9],
        row[10],
        load_acl(row[11]),
        row[12],
    )


def object_params(r: ObjectRecord) -> tuple[Any, ...]:
    return (
        r.bucket,
        r.key,
        r.size,
        r.etag,
        r.last_modified,
        dump_segments(r.segments),
        dump_map(r.headers),
        dump_map(r.user_meta),
        dump_map(r.checksums),
        r.parts_count,
        r.owner_user_id,
        dump_acl(r.acl),
        r.version_id,
    )


def upload(row: Sequence[Any]) -> Upload:
    return Upload(row[0], row[1], row[2], row[3], row[4], load_map(row[5]), load_map(row[6]), row[7],
                  load_acl(row[8]))


def upload_params(u: Upload) -> tuple[Any, ...]:
    return (
        u.upload_id,
        u.bucket,
        u.key,
        u.initiated,
        u.owner_user_id,
        dump_map(u.headers),
        dump_map(u.user_meta),
        u.checksum_algorithm,
        dump_acl(u.acl),
    )


def part(row: Sequence[Any]) -> Part:
    return Part(row[0], row[1], row[2], row[3], row[4], row[5], load_map(row[6]))


def part_params(p: Part) -> tuple[Any, ...]:
    return (p.upload_id, p.part_number, p.size, p.etag, p.blob_id, p.last_modified, dump_map(p.checksums))


#: Every change the per-worker caches depend on runs this in its own transaction (see core/caches.py).
BUMP_GENERATION = "UPDATE generation SET value = value + 1 WHERE id = 1"


def owner_filters(user_ids: Sequence[str] | None, bucket_id: str | None, prefix: str | None,
                  prefix_column: str = "key") -> tuple[list[str], list[Any]] | None:
    """The WHERE terms of a listing of links or PARs by signer (``user_ids``), bucket id and key prefix
    (of ``prefix_column``, a code constant); None when ``user_ids`` is empty (nothing can match)."""
    where: list[str] = []
    params: list[Any] = []
    if user_ids is not None:
        if not user_ids:
            return None
        where.append(f"user_id IN ({', '.join('?' * len(user_ids))})")
        params.extend(user_ids)
    if bucket_id is not None:
        where.append("bucket_id = ?")
        params.append(bucket_id)
    if prefix:
        clause, values = key_prefix_clause(prefix)
        where.append(clause.replace("key", prefix_column))
        params.extend(values)
    return where, params


def key_prefix_clause(prefix: str) -> tuple[str, list[str]]:
    """``key`` starts with ``prefix``, as a range the (…, key) indexes can scan: SQL and parameters."""
    upper = prefix_upper_bound(prefix)
    if upper is None:
        return "key >= ?", [prefix]
    return "key >= ? AND key < ?", [prefix, upper]


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix``; None when there is none.

    Binary UTF-8 order equals code-point order, so incrementing the last code point gives the bound.
    Two corners: the successor of U+D7FF is U+E000 (surrogates cannot be encoded, and nothing valid
    lies between), and a trailing U+10FFFF cannot be incremented, so it is dropped and the character
    before it is incremented instead. An empty prefix, or one made only of U+10FFFF, has no bound.
    """
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:
                nxt = 0xE000
            return prefix[:-1] + chr(nxt)
        prefix = prefix[:-1]
    return None


def insert(table: str, columns: str) -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)`` for code-constant table and column names."""
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders(columns)})"  # noqa: S608


def load_acl(text: str | None) -> tuple[AclGrant, ...]:
    """ACL grants from their JSON column (NULL or empty: none beyond the owner's)."""
    return tuple(AclGrant(grantee, permission) for grantee, permission in _decode(text)) if text else ()


def dump_acl(acl: tuple[AclGrant, ...]) -> str | None:
    return _encode([[grant.grantee, grant.permission] for grant in acl]) if acl else None


def load_block(flags: str | None) -> PublicAccessBlock | None:
    """Block Public Access flags from their four-character column (``"1010"``)."""
    return PublicAccessBlock(*(flag == "1" for flag in flags)) if flags else None


def dump_block(block: PublicAccessBlock | None) -> str | None:
    if block is None:
        return None
    return "".join("1" if flag else "0" for flag in (block.block_public_acls, block.ignore_public_acls,
                                                     block.block_public_policy, block.restrict_public_buckets))
