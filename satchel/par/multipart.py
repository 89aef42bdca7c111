"""OCI's multipart upload through a write PAR: one URL for the whole upload, which no S3 system offers.

    PUT  …/o/{object}  with ``opc-multipart: true``, no body   → {"namespace", "bucket", "object", "uploadId",
                                                                 "timeCreated", "storageTier", "accessUri"}
    PUT  {accessUri}{partNum}   one part (1 to 10000; every part but the last at least 5 MiB)
    POST {accessUri}            commit, with OCI's ``CommitMultipartUploadDetails``: exactly the parts of
                                ``partsToCommit`` (each ETag checked), those of ``partsToExclude`` dropped,
                                every uploaded part in exactly one of them; with no body (Satchel):
                                every uploaded part, in part-number order
    DELETE {accessUri}          abort (the one DELETE a PAR allows, as on OCI)

``accessUri`` is ``/p/{token}/n/{ns}/b/{bucket}/u/{object}/id/{uploadId}/`` with the PAR's own token (OCI
mints a second one). Only the create counts as a use of the PAR (a ``maxUses`` of 1 allows one whole
upload); every step is admitted again (scope, write right, creator's rights, expiry, revocations) and
audited. An upload belongs to the PAR it was started through (``par_uploads``): no other PAR, and no
PAR at all for an upload started through S3, may add parts to it, commit or abort it. A PAR whose uses
are spent may still finish the uploads it started (their use was counted); a deleted or expired one may
not, and deleting a PAR aborts its open uploads. At most ``par_max_open_uploads`` open at once per PAR.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import orjson

from satchel.asgi import Response
from satchel.core import multipart, objects
from satchel.core.errors import AccessDenied, InvalidArgument, NoSuchUpload
from satchel.core.multipart import MAX_PART_NUMBER
from satchel.core.node import Node
from satchel.core.par import use
from satchel.core.par.use import Operation, ParAdmission
from satchel.core.receive import Expectations
from satchel.par.handlers import ParContext, admit, content_length, no_query, recheck
from satchel.par.headers import md5_base64, multipart_md5, put_headers, refuse_foreign
from satchel.par.listing import rfc3339

#: OCI's commit document for 10,000 parts, with room to spare.
_MAX_COMMIT_BODY = 2 * 1024 * 1024
_TOO_MANY = ("This pre-authenticated request has {} multipart uploads open, the most allowed "
             "(par_max_open_uploads): commit or abort one first.")


def upload_uri(ctx: ParContext, upload_id: str) -> str:
    endpoint = ctx.endpoint
    return (f"/p/{endpoint.token}/n/{quote(endpoint.namespace, safe='')}/b/{endpoint.bucket}/u/"
            f"{quote(endpoint.key, safe='/')}/id/{upload_id}/")


#: Preconditions a multipart upload through a PAR cannot honour: refused (400), never ignored. Checked only
#: at its start and commit, an "only if absent" would let the commit overwrite whatever came meanwhile.
_CONDITIONS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "content-md5")


def _refuse_conditions(headers: Mapping[str, str], step: str) -> None:
    refuse_foreign(headers)
    for name in _CONDITIONS:
        if name in headers:
            raise InvalidArgument(f"{name} is not supported on {step} of a multipart upload through a "
                                  "pre-authenticated request: upload the object with one PUT to use it.")


async def create_upload(node: Node, ctx: ParContext) -> Response:
    request, key = ctx.request, ctx.endpoint.key
    no_query(request)
    _refuse_conditions(request.headers, "the start")
    if content_length(request.headers):
        raise InvalidArgument("A request with opc-multipart: true starts an upload and carries no body.")
    objects.check_key(key)
    stored, meta = put_headers(request.headers)
    objects.check_user_meta(meta)
    admission = await node.read(admit, node, ctx, key, Operation.WRITE)
    cap = node.settings.par_max_open_uploads
    if len(await node.read(node.store.par_open_uploads, ctx.par.id)) >= cap:
        raise InvalidArgument(_TOO_MANY.format(cap))
    await use.count_use(node, ctx.par)
    async with use.given_back_on_failure(node, ctx.par):
        upload = await multipart.create_upload(node, admission.principal, admission.bucket.name, key,
                                               headers=stored, user_meta=meta, checksum_algorithm=None,
                                               bucket_id=admission.bucket.id)
    if not await node.write(node.store.record_par_upload, upload.upload_id, ctx.par.id, node.clock.now(), cap):
        # concurrent creates raced past the check above: undo this one
        await multipart.abort_upload(node, admission.principal, admission.bucket.name, key, upload.upload_id)
        await use.give_back(node, ctx.par)
        raise InvalidArgument(_TOO_MANY.format(cap))
    answer = {"namespace": ctx.endpoint.namespace, "bucket": admission.bucket.name, "object": key,
              "uploadId": upload.upload_id, "timeCreated": rfc3339(upload.initiated), "storageTier": "Standard",
              "accessUri": upload_uri(ctx, upload.upload_id)}
    return Response(200, [("Content-Type", "application/json")], orjson.dumps(answer))


def _admitted_upload(node: Node, ctx: ParContext) -> ParAdmission:
    """Admission of a step of an upload, which must be one the PAR's creator started (on this key)."""
    admission = admit(node, ctx, ctx.endpoint.key, Operation.WRITE, continuing=True)
    upload_id = ctx.endpoint.upload_id
    assert upload_id is not None
    if node.store.par_upload_owner(upload_id) != ctx.par.id:
        raise AccessDenied("The upload was not started through this pre-authenticated request.")
    upload = node.store.get_upload(admission.bucket.name, upload_id)
    if upload is None or upload.key != ctx.endpoint.key:
        raise NoSuchUpload(UploadId=upload_id)
    if upload.owner_user_id != ctx.par.user_id:
        raise AccessDenied("The upload was not started by the creator of this pre-authenticated request.")
    return admission


async def upload_part(node: Node, ctx: ParContext) -> Response:
    request, endpoint = ctx.request, ctx.endpoint
    no_query(request)
    refuse_foreign(request.headers)
    for name in ("if-match", "if-none-match"):
        if name in request.headers:
            raise InvalidArgument(f"{name} does not apply to a part upload.")
    expect = Expectations(size=content_length(request.headers), content_md5=request.headers.get("content-md5"))
    admission = await node.read(_admitted_upload, node, ctx)
    assert endpoint.upload_id is not None and endpoint.part_number is not None
    part = await multipart.upload_part(node, admission.principal, admission.bucket.name, endpoint.key,
                                       endpoint.upload_id, endpoint.part_number, request.body_chunks(), expect,
                                       recheck=recheck(node, ctx, admission))
    headers = [("ETag", f'"{part.etag}"')]
    md5 = md5_base64(part.etag)
    if md5 is not None:
        headers.append(("opc-content-md5", md5))
    return Response(200, headers)


async def commit_upload(node: Node, ctx: ParContext) -> Response:
    endpoint = ctx.endpoint
    no_query(ctx.request)
    _refuse_conditions(ctx.request.headers, "the commit")
    admission = await node.read(_admitted_upload, node, ctx)
    assert endpoint.upload_id is not None
    try:
        body = await ctx.request.read_body(_MAX_COMMIT_BODY)
    except ValueError:
        raise InvalidArgument(f"The commit body may be at most {_MAX_COMMIT_BODY} bytes.") from None
    stored = {p.part_number: p.etag for p in await node.read(node.store.list_parts, endpoint.upload_id)}
    if not stored:
        raise InvalidArgument("The upload has no parts to commit.")
    chosen = commit_plan(body, stored) if body.strip() else sorted(stored.items())
    record = await multipart.complete_upload(node, admission.principal, admission.bucket.name, endpoint.key,
                                             endpoint.upload_id, [(n, etag, {}) for n, etag in chosen],
                                             recheck=recheck(node, ctx, admission))
    headers = [("ETag", f'"{record.etag}"'), ("opc-multipart-md5", multipart_md5(record.etag) or record.etag)]
    ctx.summary = f"committed {len(chosen)} part(s), {record.size} bytes"
    return Response(200, headers)


def commit_plan(body: bytes, stored: dict[int, str]) -> list[tuple[int, str]]:
    """OCI's ``CommitMultipartUploadDetails`` against the uploaded parts (number → ETag): the parts to
    commit, in order. Refused (400), never partly honoured: anything but that document, a part listed
    twice or in both lists, a part not uploaded, a wrong ETag, an uploaded part in neither list."""
    try:
        details = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidArgument("The commit body must be JSON: CommitMultipartUploadDetails.") from None
    if not isinstance(details, dict) or set(details) - {"partsToCommit", "partsToExclude"} \
            or not isinstance(details.get("partsToCommit"), list) \
            or not isinstance(details.get("partsToExclude", []), list):
        raise InvalidArgument("The commit body takes partsToCommit (required) and partsToExclude, both lists.")
    commit: dict[int, str] = {}
    for item in details["partsToCommit"]:
        if not isinstance(item, dict) or set(item) != {"partNum", "etag"} or not _part_number(item["partNum"]) \
                or not isinstance(item["etag"], str) or item["partNum"] in commit:
            raise InvalidArgument("Each of partsToCommit is {\"partNum\": 1-10000, \"etag\": \"...\"}, once.")
        commit[item["partNum"]] = item["etag"]
    exclude = details.get("partsToExclude", [])
    if not all(_part_number(n) for n in exclude) or len(set(exclude)) != len(exclude) or set(exclude) & set(commit):
        raise InvalidArgument("partsToExclude lists part numbers, each once, none of them in partsToCommit.")
    if not commit:
        raise InvalidArgument("partsToCommit names no part.")
    for number, etag in commit.items():
        if stored.get(number) != etag.strip('"'):
            raise InvalidArgument(f"Part {number} was not uploaded with ETag {etag[:80]!r}.")
    if set(stored) - set(commit) - set(exclude) or set(exclude) - set(stored):
        raise InvalidArgument("Every uploaded part must be in exactly one of partsToCommit and partsToExclude.")
    return sorted(commit.items())


def _part_number(value: object) -> bool:
    return type(value) is int and 1 <= value <= MAX_PART_NUMBER


async def abort_upload(node: Node, ctx: ParContext) -> Response:
    endpoint = ctx.endpoint
    no_query(ctx.request)
    admission = await node.read(_admitted_upload, node, ctx)
    assert endpoint.upload_id is not None
    await multipart.abort_upload(node, admission.principal, admission.bucket.name, endpoint.key, endpoint.upload_id)
    return Response(204)
