"""The metadata schema, as an ordered list of migrations shared by SQLite and PostgreSQL.

The SQL is deliberately plain: ``TEXT``, ``BIGINT``, ``DOUBLE PRECISION`` and ``INTEGER`` mean the same
thing to both engines, JSON is stored as ``TEXT`` (the store never queries inside it), booleans are
``INTEGER`` 0/1 and the single type the engines spell differently, a byte string, is written ``{bytes}``
and filled in per dialect. No ``WITHOUT ROWID``, no ``AUTOINCREMENT``, no partial indexes.

Migrations are append-only: a released script is never edited, a change is a new script at the end of
:data:`MIGRATIONS`. ``schema_version`` holds how many have been applied; each script runs inside the
same transaction that bumps the version, so a crash mid-migration leaves the previous version intact.

Key columns compare as binary UTF-8 on both engines (SQLite's default ``BINARY`` collation;
PostgreSQL needs ``COLLATE "C"`` on ``objects.key`` and ``uploads.key``, which the ``{key_collation}``
placeholder supplies) because S3 lists keys in UTF-8 byte order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BOOTSTRAP = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"

_V1 = """
CREATE TABLE generation (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created DOUBLE PRECISION NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    password_hash TEXT
);
CREATE INDEX users_by_account ON users (account_id, name);

CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_ciphertext {bytes} NOT NULL,
    status TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    owner_user_id TEXT REFERENCES users (id),
    created DOUBLE PRECISION NOT NULL,
    public_read INTEGER NOT NULL DEFAULT 0,
    cors TEXT,
    max_link_lifetime BIGINT
);
CREATE INDEX buckets_by_account ON buckets (account_id, name);
CREATE INDEX buckets_by_owner ON buckets (owner_user_id);

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    prefix TEXT NOT NULL,
    permission TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    UNIQUE (user_id, bucket, prefix)
);
CREATE INDEX grants_by_bucket ON grants (bucket);

CREATE TABLE objects (
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT {key_collation} NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    last_modified DOUBLE PRECISION NOT NULL,
    segments TEXT NOT NULL,
    headers TEXT NOT NULL,
    user_meta TEXT NOT NULL,
    checksums TEXT NOT NULL,
    parts_count INTEGER,
    owner_user_id TEXT,
    PRIMARY KEY (bucket, key)
);

CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT {key_collation} NOT NULL,
    initiated DOUBLE PRECISION NOT NULL,
    owner_user_id TEXT,
    headers TEXT NOT NULL,
    user_meta TEXT NOT NULL,
    checksum_algorithm TEXT
);
CREATE INDEX uploads_listing ON uploads (bucket, key, initiated, upload_id);

CREATE TABLE parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    last_modified DOUBLE PRECISION NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

CREATE TABLE blobs (
    blob_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    size BIGINT NOT NULL,
    updated DOUBLE PRECISION NOT NULL
);
CREATE INDEX blobs_by_state ON blobs (state, updated);
"""

#: Sharing: the registry of minted links, revocations "before a moment", and the audit trail.
_V2 = """
CREATE TABLE links (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    access_key_id TEXT,
    bucket TEXT NOT NULL,
    key TEXT {key_collation},
    method TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    max_uses INTEGER,
    uses BIGINT NOT NULL DEFAULT 0,
    last_used DOUBLE PRECISION,
    revoked DOUBLE PRECISION,
    mode TEXT,
    filename TEXT
);
CREATE INDEX links_by_user ON links (user_id, created);
CREATE INDEX links_by_bucket ON links (bucket, key, created);

CREATE TABLE revocations (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    target TEXT NOT NULL,
    bucket TEXT,
    before DOUBLE PRECISION NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    created_by TEXT
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    time DOUBLE PRECISION NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    kind TEXT,
    link_id TEXT,
    user_id TEXT,
    access_key_id TEXT,
    bucket TEXT,
    key TEXT,
    method TEXT,
    client_ip TEXT,
    user_agent TEXT,
    status INTEGER,
    bytes BIGINT,
    reason TEXT,
    request_id TEXT
);
CREATE INDEX audit_by_time ON audit_events (time, id);
CREATE INDEX audit_by_bucket ON audit_events (bucket, time);
CREATE INDEX audit_by_link ON audit_events (link_id, time);
"""

#: Sharing is a right of its own (``core/access.py`` rule 7). Existing grants get ``share = 0``: after an
#: upgrade a member's links work again only once a grant says ``share`` (or the bucket's ``sharing`` is set
#: to ``any``), which is the seeds' rule; owners and account admins keep sharing as before.
_V3 = """
ALTER TABLE grants ADD COLUMN share INTEGER NOT NULL DEFAULT 0;
ALTER TABLE buckets ADD COLUMN sharing TEXT NOT NULL DEFAULT 'grant'
"""

#: Bucket identity: a bucket is an id, not a name. Links, revocations, grants and audit rows carry the id
#: of the bucket they were made for, so a name deleted and re-created by someone else inherits nothing.
#: Existing buckets get a random id; existing rows get the id of the bucket that holds their name now
#: (rows of names with no bucket keep NULL and so match no bucket ever again). Only added columns, a
#: backfill and indexes: no table is rebuilt, so the script is independent of other column additions.
#: The name indexes of links and audit events give way to id indexes (every query filters by id now).
_V4 = """
ALTER TABLE buckets ADD COLUMN id TEXT;
UPDATE buckets SET id = {random_id};
CREATE UNIQUE INDEX buckets_by_id ON buckets (id);

ALTER TABLE grants ADD COLUMN bucket_id TEXT;
UPDATE grants SET bucket_id = (SELECT b.id FROM buckets b WHERE b.name = grants.bucket);

ALTER TABLE links ADD COLUMN bucket_id TEXT;
UPDATE links SET bucket_id = (SELECT b.id FROM buckets b WHERE b.name = links.bucket);
CREATE INDEX links_by_bucket_id ON links (bucket_id, key, created);
DROP INDEX links_by_bucket;

ALTER TABLE revocations ADD COLUMN bucket_id TEXT;
UPDATE revocations SET bucket_id = (SELECT b.id FROM buckets b WHERE b.name = revocations.bucket)
    WHERE scope IN ('object', 'prefix');
UPDATE revocations SET bucket_id = (SELECT b.id FROM buckets b WHERE b.name = revocations.target)
    WHERE scope = 'bucket';

ALTER TABLE audit_events ADD COLUMN bucket_id TEXT;
UPDATE audit_events SET bucket_id = (SELECT b.id FROM buckets b WHERE b.name = audit_events.bucket)
    WHERE bucket IS NOT NULL;
CREATE INDEX audit_by_bucket_id ON audit_events (bucket_id, time);
DROP INDEX audit_by_bucket
"""

#: SigV2 URLs carry no issue time: the first time the server saw one stands in for it (lifetime
#: ceilings, revocations). ``fingerprint`` is a hash of the access key and signature, never the
#: signature; rows are pruned once the URL has expired.
_V5 = """
CREATE TABLE link_sightings (
    fingerprint TEXT PRIMARY KEY,
    first_seen DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX link_sightings_by_expiry ON link_sightings (expires)
"""

#: A bucket name released and taken again: links signed offline for the earlier bucket (they name the
#: bucket, not its id) must not work on the new one. ``bucket_names`` keeps when each name was last
#: released (deleted); a bucket created afterwards refuses client-dated and SigV2 links issued before
#: that moment (``buckets.links_since``). Names never reused cost nothing.
_V6 = """
CREATE TABLE bucket_names (
    name TEXT PRIMARY KEY,
    released DOUBLE PRECISION NOT NULL
);
ALTER TABLE buckets ADD COLUMN links_since DOUBLE PRECISION
"""

#: Pre-authenticated requests (``core/par/``). ``token_hash`` is the hex SHA-256 of the bearer token (the
#: token itself is never stored); ``bucket_id`` the bucket's identity; ``deleted`` is set once, when the PAR
#: is deleted (the row stays for its audit trail and its listing). A live PAR (not deleted, not expired)
#: blocks the deletion of its bucket. ``par_bucket_policies`` holds a bucket's PAR settings (by bucket id):
#: ``inline_active`` lets PARs show HTML, SVG and XML objects inline (by default they are attachments).
_V7 = """
CREATE TABLE par_requests (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    bucket TEXT NOT NULL,
    bucket_id TEXT NOT NULL,
    object_name TEXT {key_collation},
    access_type TEXT NOT NULL,
    listing TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    last_used DOUBLE PRECISION,
    deleted DOUBLE PRECISION,
    mode TEXT,
    filename TEXT,
    ip_range TEXT
);
CREATE UNIQUE INDEX par_requests_by_token ON par_requests (token_hash);
CREATE INDEX par_requests_by_bucket ON par_requests (bucket_id, created);
CREATE INDEX par_requests_by_user ON par_requests (user_id, created);

CREATE TABLE par_bucket_policies (
    bucket_id TEXT PRIMARY KEY,
    inline_active INTEGER NOT NULL DEFAULT 0
)
"""

#: The Swift API (``satchel/swift/``). ``swift_tokens`` holds TempAuth tokens by their SHA-256 only, with the
#: access key whose secret obtained them: a token dies with its key or user (the cascades here; disabling
#: either deletes the rows in the same transaction) and at ``expires``. ``swift_metadata`` holds Swift's
#: ``X-Account-Meta-*`` (owner: the account id) and ``X-Container-Meta-*`` (owner: the bucket id, so a
#: re-created bucket name inherits nothing) as one row per name.
_V8 = """
CREATE TABLE swift_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_key_id TEXT NOT NULL REFERENCES access_keys (access_key_id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX swift_tokens_by_expiry ON swift_tokens (expires);
CREATE INDEX swift_tokens_by_key ON swift_tokens (access_key_id, created);
CREATE INDEX swift_tokens_by_user ON swift_tokens (user_id);

CREATE TABLE swift_metadata (
    scope TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, owner_id, name)
)
"""

#: Swift TempURL and FormPost keys: two slots (``Temp-URL-Key``, ``Temp-URL-Key-2``) per account
#: (``bucket_id`` empty) and per container (the bucket's id: a name deleted and re-created gets none of
#: its keys). The secret is sealed with the node master key, never stored in the clear; ``set_by`` is the
#: user whose rights every TempURL signed with the key is checked against at use time.
_V9 = """
CREATE TABLE tempurl_keys (
    account_id TEXT NOT NULL,
    bucket_id TEXT NOT NULL,
    slot INTEGER NOT NULL,
    secret_ciphertext {bytes} NOT NULL,
    set_by TEXT NOT NULL,
    set_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, bucket_id, slot)
);
CREATE INDEX tempurl_keys_by_bucket ON tempurl_keys (bucket_id)
"""

#: The web console. ``console_sessions``: sign-in sessions, stored by the SHA-256 of their cookie (never
#: the cookie), with the last request's time (idle expiry) and an absolute expiry. ``console_shares``: share
#: pages ``/s/{id}`` in front of a minted link, by the SHA-256 of their id, with an optional argon2
#: passphrase hash. ``console_throttle``: failed sign-ins and passphrases per subject (user name, client
#: address, share page) in a window, and until when further tries are refused: shared by every worker.
_V10 = """
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires);

CREATE TABLE console_shares (
    id_hash TEXT PRIMARY KEY,
    link_id TEXT NOT NULL,
    passphrase_hash TEXT,
    created DOUBLE PRECISION NOT NULL,
    created_by TEXT
);
CREATE INDEX console_shares_by_link ON console_shares (link_id);

CREATE TABLE console_throttle (
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start DOUBLE PRECISION NOT NULL,
    locked_until DOUBLE PRECISION
)
"""


#: PARs, second step: ``par_uploads`` records the PAR each multipart upload was started through (only that
#: PAR may continue it; deleting the PAR aborts it; its open uploads are counted against a cap), and
#: ``par_requests.access_key_id`` the access key that minted a PAR (revoking, disabling or deleting the key
#: stops it; NULL: minted from a console session, bound to the user only).
_V11 = """
CREATE TABLE par_uploads (
    upload_id TEXT PRIMARY KEY,
    par_id TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE INDEX par_uploads_by_par ON par_uploads (par_id);
ALTER TABLE par_requests ADD COLUMN access_key_id TEXT
"""

#: Link notifications (webhooks). ``webhook_endpoints``: where a bucket's link events, or the uses of the links
#: of one mint call, are POSTed (``scope`` ``bucket``, at most one per bucket, or ``links``), with the HMAC
#: secret sealed by the master key and the user who set it. ``webhook_links``: which minted link notifies which
#: endpoint. ``webhook_deliveries``: the durable, bounded queue: one row per audit event and endpoint, written in
#: the audit event's own transaction, claimed by one worker at a time with a lease (``claimed_until``), retried
#: at ``next_attempt``; ``state`` ``pending`` until delivered (the row is then deleted) or ``dead``.
_V12 = """
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    bucket_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_ciphertext {bytes} NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_bucket ON webhook_endpoints (bucket_id, scope);

CREATE TABLE webhook_links (
    link_id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL
);
CREATE INDEX webhook_links_by_endpoint ON webhook_links (endpoint_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    bucket_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt DOUBLE PRECISION NOT NULL,
    claimed_by TEXT,
    claimed_until DOUBLE PRECISION,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt);
CREATE INDEX webhook_deliveries_by_bucket ON webhook_deliveries (bucket_id, state, created);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id)
"""

#: S3 conformance: ``mpu_completions`` remembers each completed multipart upload for an hour (which part list
#: made it and the answer given), so a retried CompleteMultipartUpload gets the same answer
#: (``core/completions.py``); rows older than that are pruned whenever an upload completes.
_V18 = """
CREATE TABLE mpu_completions (
    upload_id TEXT PRIMARY KEY,
    bucket_id TEXT NOT NULL,
    key TEXT NOT NULL,
    parts_digest TEXT NOT NULL,
    etag TEXT NOT NULL,
    size BIGINT NOT NULL,
    parts_count INTEGER NOT NULL,
    checksums TEXT NOT NULL,
    completed DOUBLE PRECISION NOT NULL
);
CREATE INDEX mpu_completions_by_time ON mpu_completions (completed)
"""

#: Versioning details. A remembered CompleteMultipartUpload keeps the version id its object got, so that a
#: retried completion answers the same ``x-amz-version-id`` as the first (``core/completions.py``). Object tags
#: become per version (``meta/sqlite_tagging.py``): until now every key's tags were the current version's,
#: under ``'null'``; they move to the current version's own id, and tags of a key with no current version
#: (left under a delete marker) go, since no version can be told to own them.
_V20 = """
ALTER TABLE mpu_completions ADD COLUMN version_id TEXT;
DELETE FROM tagging_objects WHERE version_id = 'null' AND NOT EXISTS (
    SELECT 1 FROM objects o WHERE o.bucket = tagging_objects.bucket AND o.key = tagging_objects.key);
UPDATE tagging_objects SET version_id = (
    SELECT o.version_id FROM objects o WHERE o.bucket = tagging_objects.bucket AND o.key = tagging_objects.key)
WHERE version_id = 'null' AND EXISTS (
    SELECT 1 FROM objects o WHERE o.bucket = tagging_objects.bucket AND o.key = tagging_objects.key
    AND o.version_id IS NOT NULL AND o.version_id <> 'null')
"""

#: Bucket policies (``core/policy.py``): the validated JSON document, on the bucket's row so that every
#: load of a bucket carries its policy (none can be checked without it).
_V15 = """
ALTER TABLE buckets ADD COLUMN policy TEXT
"""

#: Encryption at rest: a bucket's default encryption (PutBucketEncryption), by bucket id so that a name
#: deleted and re-created by someone else inherits nothing. Objects keep their own encryption in their
#: stored headers (``core/sse.py``).
_V17 = """
CREATE TABLE sse_bucket_defaults (
    bucket_id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    updated DOUBLE PRECISION NOT NULL
)
"""

#: Tagging and lifecycle (issue 16). One row per tag. ``tagging_objects`` is keyed like the object it belongs
#: to (bucket name, key) plus ``version_id`` (always ``'null'`` until versioning lands: then each version keeps
#: its own tags with no schema change); ``position`` keeps the order the client gave. ``tagging_uploads`` holds
#: the ``x-amz-tagging`` of a multipart upload until its completion moves them onto the object.
#: ``tagging_buckets`` and ``lifecycle_configurations`` are bound to the bucket's id (a later bucket of the
#: same name inherits nothing); the rules are JSON (``core/lifecycle.py``), never queried inside.
_V16 = """
CREATE TABLE tagging_objects (
    bucket TEXT NOT NULL,
    key TEXT {key_collation} NOT NULL,
    version_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, version_id, tag_key)
);

CREATE TABLE tagging_uploads (
    upload_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (upload_id, tag_key)
);

CREATE TABLE tagging_buckets (
    bucket_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (bucket_id, tag_key)
);

CREATE TABLE lifecycle_configurations (
    bucket_id TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    updated DOUBLE PRECISION NOT NULL
)
"""

#: S3 ACLs and Block Public Access (``core/acl.py``, ``core/publicaccess.py``). ``acl`` columns hold the grants
#: beyond the owner's as JSON (``[[grantee, permission], ...]``; a bucket's AllUsers READ stays ``public_read``); an
#: object's goes with its row, so an overwrite resets it as on S3; an upload's is given to the object it completes.
#: ``acl_block``: a bucket's four Block Public Access flags (``"1010"``: BlockPublicAcls, IgnorePublicAcls,
#: BlockPublicPolicy, RestrictPublicBuckets), NULL when none is set; ``acl_account_blocks`` the account's.
_V14 = """
ALTER TABLE buckets ADD COLUMN acl TEXT;
ALTER TABLE buckets ADD COLUMN acl_block TEXT;
ALTER TABLE objects ADD COLUMN acl TEXT;
ALTER TABLE uploads ADD COLUMN acl TEXT;
CREATE TABLE acl_account_blocks (
    account_id TEXT PRIMARY KEY,
    flags TEXT NOT NULL
)
"""

#: Versioning: ``objects`` stays the table of current versions (every listing and read path unchanged) and
#: gains its version id (NULL: the null version of a bucket never versioned); ``object_versions`` holds the
#: noncurrent versions and the delete markers, ``seq`` ordering a key's versions (higher is newer);
#: ``versioning_buckets`` a bucket's state (``Enabled`` / ``Suspended``; no row: never enabled). A minted
#: link may name the version it serves, and an audit event the version a request named.
_V13 = """
ALTER TABLE objects ADD COLUMN version_id TEXT;

CREATE TABLE object_versions (
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT {key_collation} NOT NULL,
    version_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    delete_marker INTEGER NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    last_modified DOUBLE PRECISION NOT NULL,
    segments TEXT NOT NULL,
    headers TEXT NOT NULL,
    user_meta TEXT NOT NULL,
    checksums TEXT NOT NULL,
    parts_count INTEGER,
    owner_user_id TEXT,
    acl TEXT,
    PRIMARY KEY (bucket, key, version_id)
);
CREATE INDEX object_versions_listing ON object_versions (bucket, key, seq);

CREATE TABLE versioning_buckets (
    bucket_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
);

ALTER TABLE links ADD COLUMN version_id TEXT;
ALTER TABLE audit_events ADD COLUMN version_id TEXT
"""

#: The master key check (``core/keycheck.py``): one row, a constant sealed by the deployment's master key, so
#: that a node (or an admin command) holding another key, or none, refuses to start instead of sealing
#: secrets no other node can open. Never the key, nothing that helps guess it (AES-GCM, a random nonce).
_V19 = """
CREATE TABLE node_key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed {bytes} NOT NULL,
    recorded DOUBLE PRECISION NOT NULL
)
"""

#: Applied in order; ``schema_version.version`` is the number applied so far.
MIGRATIONS: tuple[str, ...] = (
    _V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12, _V15, _V16, _V17, _V18, _V14, _V13,
    _V19, _V20,
)

#: Per-dialect spellings of the placeholders above. ``random_id`` is 32 random hex digits, evaluated
#: once per row (the ids new buckets get come from ``secrets.token_hex(16)``, the same shape).
DIALECTS: dict[str, dict[str, str]] = {
    "sqlite": {"bytes": "BLOB", "key_collation": "", "random_id": "lower(hex(randomblob(16)))"},
    "postgresql": {"bytes": "BYTEA", "key_collation": 'COLLATE "C"',
                   "random_id": "md5(random()::text || clock_timestamp()::text)"},
}


def statements(script: str, dialect: str) -> list[str]:
    """Split one migration into statements for ``dialect``.

    Statements are run one by one (not with ``executescript``, which commits on SQLite) so that the
    whole migration shares the caller's transaction. The scripts contain no ``;`` inside literals.
    """
    text = script.format(**DIALECTS[dialect])
    return [s.strip() for s in text.split(";") if s.strip()]


def migrate(c: Any, dialect: str, where: str, migrations: tuple[str, ...],
            spell: Callable[[str], str] = lambda statement: statement) -> None:
    """Apply the ``migrations`` the database lacks, inside the caller's (locked) transaction ``c``;
    ``spell`` adapts each statement to the engine (PostgreSQL's DDL types)."""
    row = c.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        c.execute("INSERT INTO schema_version (version) VALUES (0)")
    current = row[0] if row else 0
    if current > len(migrations):
        from satchel.meta import UnusableStore  # here: satchel.meta imports this module

        raise UnusableStore(f"{where} has schema version {current}, newer than this Satchel: run the newer "
                            "version, or restore a backup made for this one")
    for script in migrations[current:]:
        for statement in statements(script, dialect):
            c.execute(spell(statement))
    c.execute("UPDATE schema_version SET version = ?", (len(migrations),))
