"""Request signatures as pure functions: no I/O, no clock, no key store — those are arguments.

Split as in MinIO: *parse* (text → typed values, typed errors), *canonicalize* (one function per spec
step), *verify* (chain them, compare in constant time). Errors are the classes of
:mod:`satchel.core.errors`, with AWS's messages and extra XML elements in ``error.extra``.

What the S3 front-end passes in, everywhere:

* ``method`` upper case; ``raw_path`` the path exactly as received (still percent-encoded, ASGI
  ``raw_path`` decoded as latin-1, no query); ``query`` the decoded pairs in wire order
  (``parse_qsl(..., keep_blank_values=True)``); ``headers`` lower-case names, repeats joined with ",";
* ``now`` epoch seconds; ``region`` the server's region (service is always ``s3``);
* ``lookup_secret(access_key_id) -> secret``, which raises ``InvalidAccessKeyId`` itself. It is called
  after the request has parsed, so errors come in the order AWS reports them.

Modules:

``sigv4.parse``
    ``parse_authorization_header(value, *, region, service="s3") -> HeaderAuth``,
    ``parse_presigned_query(query, *, region, service="s3") -> PresignedAuth``, ``parse_credential``,
    ``parse_amz_date``, ``is_presigned_v4(query)``.
``sigv4.canonical``
    ``canonical_uri(raw_path, *, service="s3")`` (S3 encodes once and never normalizes; other services
    normalize and double-encode), ``canonical_query``, ``canonical_headers``, ``canonical_request``,
    ``credential_scope``, ``string_to_sign``, ``signing_key`` (LRU-cached), ``sign``,
    ``chunk_string_to_sign``, ``trailer_string_to_sign``.
``sigv4.verify``
    ``verify_header_auth(*, method, raw_path, query, headers, now, region, lookup_secret) -> SigV4Result``
    and ``verify_presigned(...)`` (same arguments). The result carries the access key, the signature
    (the aws-chunked seed), the signing key, date, scope and the signed payload hash; for a hex
    ``payload_hash`` the front-end still compares it with the body (``XAmzContentSHA256Mismatch``).
``sigv4.chunked``
    ``AwsChunkedDecoder(mode, ChunkSigner.from_result(result), decoded_length=...)`` with ``feed(bytes)
    -> list[bytes | memoryview]``, ``finish()``, ``trailers``: signed, signed-trailer and unsigned-trailer
    bodies, each signed chunk verified before any of its bytes are released (16 MiB max per chunk).
``sigv4.presign``
    ``presign_v4_url(*, method, endpoint, bucket, key, access_key_id, secret, region, expires, now,
    extra_query=(), security_token=None, virtual_hosted=False) -> str``, identical to botocore's.
``sigv2``
    ``verify_v2_header(...)``, ``verify_v2_presigned(...)`` (same arguments as V4 minus ``region``, plus
    ``bucket_from_host`` for virtual-hosted requests) → ``SigV2Result``; ``presign_v2_url(...)``;
    ``string_to_sign``, ``canonical_resource``, ``canonical_amz_headers``, ``sign``.
``post_policy``
    ``verify_post_form(form, *, bucket, region, now, lookup_secret, filename=None) -> PostFormResult``
    (V4 or V2 form), ``decode_policy``, ``check_conditions``; ``ContentLengthRange.check(size, final=)``
    raises EntityTooLarge / EntityTooSmall while the upload streams.

Tests: ``tests/unit/signing`` (AWS SigV4 suite stage by stage, AWS S3 documentation examples, botocore,
boto3 and s3cmd as peer implementations, one table row per failure mode).
"""
