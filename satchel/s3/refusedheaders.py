"""Request headers that ask for a protection Satchel does not provide: refused, never ignored.

A client that sends ``x-amz-server-side-encryption: aws:kms`` believes a KMS key protects its bytes; one
that sends ``x-amz-object-lock-mode`` believes the object cannot be deleted until a date. Storing the
object anyway breaks that belief silently, so these requests are refused *before any handler touches
data*, with the answer AWS documents for "a header you provided implies functionality that is not
implemented": ``501 NotImplemented``, naming the header (MinIO answers the same for
``x-amz-server-side-encryption`` without a KMS). A storage class AWS does not define is
``400 InvalidStorageClass``, as on AWS. (ACL headers, ``x-amz-acl`` and ``x-amz-grant-*``, are honoured:
``core/acl.py``.)

Features beside protection are refused the same way when ignoring them loses data or a promise:
``x-amz-write-offset-bytes`` (an append would replace the object), storage classes other than
STANDARD and website redirects. (Object tags, ``x-amz-tagging`` and ``x-amz-tagging-directive``, are
honoured since issue 16: ``core/tagging.py``.)

The checks run in :func:`satchel.s3.router.route` on the request headers and on ``x-amz-*`` query
parameters (a presigned URL carries its signed headers there), and in the PostObject handler on the
form fields. The README lists what is refused; each entry goes when the S3-breadth issue implements
the feature.
"""

from __future__ import annotations

from collections.abc import Iterable

from satchel.core.errors import InvalidStorageClass, NotImplementedFeature, SatchelError

#: (header name or prefix, values that ask for nothing Satchel lacks). Prefixes end in ``-`` or
#: cover a family: ``x-amz-server-side-encryption`` also matches its ``-aws-kms-key-id``, ``-context``
#: and ``-bucket-key-enabled`` members (its ``-customer-*`` ones are :data:`HONOURED`, checked first).
REFUSED_HEADERS: tuple[tuple[str, frozenset[str]], ...] = (
    # SSE-KMS and DSSE-KMS: Satchel has no key management service. SSE-S3 (AES256) and SSE-C are
    # honoured (``core/sse.py``): their headers are in HONOURED, checked first.
    ("x-amz-server-side-encryption", frozenset({"aes256"})),
    # Object lock, retention and legal hold: nothing stops a delete or an overwrite.
    ("x-amz-object-lock-", frozenset()),
    ("x-amz-bucket-object-lock-enabled", frozenset({"false"})),
    # Checks a client asks the server to make: skipping them silently would pass what should fail.
    ("x-amz-expected-bucket-owner", frozenset()),
    ("x-amz-source-expected-bucket-owner", frozenset()),
    ("x-amz-mfa", frozenset()),
    # Appends (x-amz-write-offset-bytes): a plain PUT would replace the object the client extends.
    ("x-amz-write-offset-bytes", frozenset()),
    # One storage class; clients name it explicitly.
    ("x-amz-storage-class", frozenset({"standard"})),
    ("x-amz-website-redirect-location", frozenset()),
)

#: Prefixes of headers some handler honours, which the family entries above would otherwise catch.
HONOURED = ("x-amz-server-side-encryption-customer-", "x-amz-copy-source-server-side-encryption-customer-")
#: Every storage class S3 defines (botocore's ``StorageClass`` enum), lower-cased.
_STORAGE_CLASSES = frozenset({
    "standard", "reduced_redundancy", "standard_ia", "onezone_ia", "intelligent_tiering", "glacier",
    "deep_archive", "outposts", "glacier_ir", "snow", "express_onezone", "fsx_openzfs", "fsx_ontap",
    "aws_backup_warm", "aws_backup_low_cost_warm",
})


def _malformed(name: str, value: str) -> SatchelError | None:
    """The 400 for a value that names nothing S3 defines (rather than something Satchel lacks)."""
    wanted = value.strip().lower()
    if name == "x-amz-storage-class" and wanted not in _STORAGE_CLASSES:
        return InvalidStorageClass(StorageClassRequested=value)
    return None


def check_protection_headers(headers: Iterable[tuple[str, str]]) -> None:
    """Raise for the first (lower-case name, value) pair that asks for a protection we lack."""
    for name, value in headers:
        if not name.startswith("x-amz-") or name.startswith(HONOURED):
            continue
        for refused, harmless in REFUSED_HEADERS:
            if not name.startswith(refused):
                continue
            wanted = value.strip().lower()
            if wanted in harmless:
                break
            raise _malformed(name, value) or NotImplementedFeature(Header=name)

