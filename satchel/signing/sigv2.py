"""AWS Signature Version 2 (HMAC-SHA1): header auth, query auth (presigned URLs) and minting.

Still in daily use: boto3 presigns with V2 by default in us-east-1 and other legacy regions unless
``signature_version='s3v4'`` is set, awscli v1's ``s3 presign`` and ``s3cmd signurl`` emit V2. Spec:
RESTAuthentication.html (awsdocs/amazon-s3-developer-guide)::

    Authorization: AWS AKIAIOSFODNN7EXAMPLE:<base64 HMAC-SHA1(secret, StringToSign)>
    https://bucket.s3.example.com/photos/cat.jpg?AWSAccessKeyId=AKIA...&Expires=1175139620&Signature=...

    StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n (Date | Expires) \\n
                   CanonicalizedAmzHeaders CanonicalizedResource

* CanonicalizedAmzHeaders: ``x-amz-*`` headers, lower-cased, sorted, ``name:value\\n`` each; in query
  auth, ``x-amz-*`` query parameters count too (botocore's HmacV1QueryAuth moves them there).
* CanonicalizedResource: ``/bucket`` when the bucket came from the Host header (pass
  ``bucket_from_host``), then the path exactly as sent (still encoded), then the sub-resources from
  :data:`SUBRESOURCES` sorted by name, values *decoded* (``?acl``, ``?response-content-type=text/plain``).
* Header auth: a Date or x-amz-date header within 15 minutes of now (RequestTimeTooSkewed).
* Query auth: ``Expires`` is an absolute epoch second; there is no 7-day cap in V2, as on AWS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from satchel.core.errors import AccessDenied, InvalidArgument, RequestTimeTooSkewed, SignatureDoesNotMatch
from satchel.signing.linkid import signed_link_id
from satchel.signing.sigv4.canonical import spaced_hex, uri_encode, wire_bytes
from satchel.signing.sigv4.presign import host_for, object_path
from satchel.signing.sigv4.verify import MAX_SKEW_SECONDS, SecretLookup, http_date_epoch, iso8601

# The AWS documentation's list plus botocore's HmacV1Auth.QSAOfInterest additions: signing one a
# client leaves out (or the reverse) breaks that client, so the list follows the signers we serve.
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle",
        "location", "logging", "metrics", "notification", "object-lock", "partNumber", "policy",
        "replication", "requestPayment", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "response-content-language", "response-content-type",
        "response-expires", "restore", "select", "select-type", "storageClass", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    }
)  # fmt: skip
QUERY_PARAMS = ("AWSAccessKeyId", "Signature", "Expires")
HEADER_PREFIX = "AWS "
_MISSING_QUERY = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"


@dataclass(frozen=True, slots=True)
class SigV2Result:
    access_key_id: str
    expires_at: float | None = None
    #: The minted link id the signature covered (see :mod:`satchel.signing.linkid`).
    link_id: str | None = None
    #: A V2 URL has no issue time; this names it (a hash, never the signature itself) so the server
    #: can remember when it first saw it (``core/sightings.py``).
    fingerprint: str | None = None

    @property
    def presigned(self) -> bool:
        return self.expires_at is not None


def canonical_amz_headers(pairs: Iterable[tuple[str, str]]) -> str:
    amz: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key.startswith("x-amz-"):
            amz[key] = f"{amz[key]},{value.strip()}" if key in amz else value.strip()
    return "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))


def canonical_resource(raw_path: str, query: Sequence[tuple[str, str]], bucket_from_host: str | None = None) -> str:
    resource = (f"/{bucket_from_host}" if bucket_from_host else "") + (raw_path or "/")
    subresources = sorted(((name, value) for name, value in query if name in SUBRESOURCES), key=lambda p: p[0])
    if subresources:
        resource += "?" + "&".join(f"{name}={value}" if value else name for name, value in subresources)
    return resource


def canonical_resources(
    raw_path: str, query: Sequence[tuple[str, str]], bucket_from_host: str | None = None
) -> list[str]:
    """The resources a signer may have used. A path-style bucket request (``/bucket``) is also tried
    as ``/bucket/``: the AWS guide writes bucket resources with the slash, and botocore signs
    bucket-level presigned URLs that way while sending the path without it."""
    resources = [canonical_resource(raw_path, query, bucket_from_host)]
    if not bucket_from_host and raw_path.count("/") == 1 and len(raw_path) > 1:
        resources.append(canonical_resource(raw_path + "/", query))
    return resources


def string_to_sign(
    method: str,
    content_md5: str,
    content_type: str,
    date_or_expires: str,
    amz_headers: str,
    resource: str,
) -> str:
    return f"{method}\n{content_md5}\n{content_type}\n{date_or_expires}\n{amz_headers}{resource}"


def sign(secret: str, text: str) -> str:
    """Base64 HMAC-SHA1; the string to sign is UTF-8 (botocore, s3cmd)."""
    digest = hmac.digest(secret.encode("utf-8"), wire_bytes(text), hashlib.sha1)
    return base64.b64encode(digest).decode("ascii")


def _compare(expected: str, provided: str) -> bool:
    # Constant time: the signature is the only secret-derived value the client can probe.
    return hmac.compare_digest(expected.encode("ascii"), provided.encode("utf-8", "replace"))


def _mismatch(access_key_id: str, sts: str, provided: str) -> SignatureDoesNotMatch:
    return SignatureDoesNotMatch(
        AWSAccessKeyId=access_key_id,
        StringToSign=sts,
        SignatureProvided=provided,
        StringToSignBytes=spaced_hex(sts),
    )


def _header_epoch(value: str) -> float:
    """A date before the epoch is refused as invalid, not as skewed (AWS; ceph s3-tests
    ``test_object_create_bad_date_before_epoch_aws2``)."""
    epoch = http_date_epoch(value)
    if epoch is None or epoch < 0:
        raise AccessDenied(_NO_DATE)
    return epoch


def verify_v2_header(
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    now: float,
    lookup_secret: SecretLookup,
    bucket_from_host: str | None = None,
) -> SigV2Result:
    """Verify ``Authorization: AWS AKID:signature``. Order: syntax → date → key → skew → signature.

    The Date line is the Date header (botocore, MinIO, s3cmd sign x-amz-date as an amz header). The
    AWS guide also documents two variants when x-amz-date is sent — an empty Date line, and the x-amz-date
    value in the Date line with x-amz-date left out of the amz headers — so those are accepted too.
    """
    credential = headers.get("authorization", "")[len(HEADER_PREFIX) :]
    access_key_id, sep, provided = credential.partition(":")
    if not headers.get("authorization", "").startswith(HEADER_PREFIX) or not sep or not access_key_id:
        raise InvalidArgument(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            ArgumentName="Authorization",
            ArgumentValue=headers.get("authorization", ""),
        )
    amz_date = headers.get("x-amz-date")
    date_header = headers.get("date", "")
    # x-amz-date, when sent, is the request's time even when empty: an empty or malformed one is refused
    # (AccessDenied), never passed over for Date, as AWS does (ceph s3-tests
    # test_object_create_bad_date_empty_aws2). Without it, Date must be there and valid.
    request_date = amz_date if amz_date is not None else date_header
    request_time = _header_epoch(request_date)
    secret = lookup_secret(access_key_id)
    if abs(now - request_time) > MAX_SKEW_SECONDS:
        raise RequestTimeTooSkewed(
            RequestTime=request_date,
            ServerTime=iso8601(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
        )
    md5, ctype = headers.get("content-md5", "").strip(), headers.get("content-type", "").strip()
    amz = canonical_amz_headers(headers.items())
    candidates: list[str] = []
    for resource in canonical_resources(raw_path, query, bucket_from_host):
        candidates.append(string_to_sign(method, md5, ctype, date_header.strip(), amz, resource))
        if amz_date:
            without = canonical_amz_headers((k, v) for k, v in headers.items() if k != "x-amz-date")
            candidates.append(string_to_sign(method, md5, ctype, "", amz, resource))
            candidates.append(string_to_sign(method, md5, ctype, amz_date.strip(), without, resource))
    if not any(_compare(sign(secret, sts), provided) for sts in candidates):
        raise _mismatch(access_key_id, candidates[0], provided)
    return SigV2Result(access_key_id)


def verify_v2_presigned(
    *,
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    now: float,
    lookup_secret: SecretLookup,
    bucket_from_host: str | None = None,
) -> SigV2Result:
    """Verify ``?AWSAccessKeyId=&Expires=&Signature=``. Order: params → Expires syntax → key → expiry →
    signature. Content-MD5/Content-Type come from the request headers, as the URL's user sends them."""
    params = dict(reversed(query))  # first occurrence wins
    access_key_id, provided, expires = (params.get(name, "") for name in QUERY_PARAMS)
    if not (access_key_id and provided and expires):
        raise AccessDenied(_MISSING_QUERY)
    if not (expires.isascii() and expires.isdigit()):
        raise AccessDenied(f"Invalid date (should be seconds since epoch): {expires}")
    secret = lookup_secret(access_key_id)
    if now > int(expires):
        raise AccessDenied("Request has expired", Expires=iso8601(int(expires)), ServerTime=iso8601(now))
    amz_pairs = [(k, v) for k, v in headers.items() if k.startswith("x-amz-")]
    header_names = {k for k, _ in amz_pairs}
    amz_pairs += [(k.lower(), v) for k, v in query if k.lower().startswith("x-amz-") and k.lower() not in header_names]
    candidates = [
        string_to_sign(
            method,
            headers.get("content-md5", "").strip(),
            headers.get("content-type", "").strip(),
            expires,
            canonical_amz_headers(amz_pairs),
            resource,
        )
        for resource in canonical_resources(raw_path, query, bucket_from_host)
    ]
    if not any(_compare(sign(secret, sts), provided) for sts in candidates):
        raise _mismatch(access_key_id, candidates[0], provided)
    return SigV2Result(
        access_key_id,
        expires_at=float(expires),
        link_id=signed_link_id(query, headers),
        fingerprint=fingerprint(access_key_id, provided),
    )


def fingerprint(access_key_id: str, signature: str) -> str:
    """What identifies one V2 URL: its key and signature, hashed (a stored signature would be a
    working credential for as long as the URL lives)."""
    return hashlib.sha256(f"{access_key_id}\n{signature}".encode("utf-8", "surrogatepass")).hexdigest()


def presign_v2_url(
    *,
    method: str,
    endpoint: str,
    bucket: str,
    key: str,
    access_key_id: str,
    secret: str,
    expires_at: int,
    extra_query: Sequence[tuple[str, str]] = (),
    content_type: str = "",
    content_md5: str = "",
    virtual_hosted: bool = False,
) -> str:
    """A V2 presigned URL, signature-identical to botocore's HmacV1QueryAuth (absolute ``expires_at``).

    ``x-amz-*`` pairs in ``extra_query`` are signed as amz headers; sub-resources such as
    ``response-content-disposition`` go into the resource unencoded; other parameters are not signed.
    """
    scheme, host, base_path = host_for(endpoint, bucket if virtual_hosted else None)
    path = object_path(base_path, None if virtual_hosted else bucket, key)
    resource = canonical_resource(f"/{bucket}{path}" if virtual_hosted else path, extra_query)
    sts = string_to_sign(
        method.upper(), content_md5, content_type, str(expires_at), canonical_amz_headers(extra_query), resource
    )
    signature = sign(secret, sts)
    pairs = [*extra_query, ("AWSAccessKeyId", access_key_id), ("Signature", signature), ("Expires", str(expires_at))]
    query = "&".join(f"{uri_encode(name)}={uri_encode(value)}" for name, value in pairs)
    return f"{scheme}://{host}{path}?{query}"
