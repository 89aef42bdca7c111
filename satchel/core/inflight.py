"""In-flight writes: a write is admitted twice, when it starts and again when its body has arrived.

Every check of a request (signature, key and user active, rights, revocations, a PAR's deletion, a TempURL
key) is made when it starts, as on AWS. A body can take long (a slow 1 GiB upload), and a revocation made
meanwhile must hold for it too: Satchel promises that a link revoked, a PAR deleted, a key or user disabled
or a right removed stops every write that has not been published yet. So every write that streams a body
(PutObject, UploadPart, CompleteMultipartUpload, POST and FormPost files, PAR and TempURL writes) takes a
:data:`Recheck` from its front-end, which core calls after the body has been received in full and *before*
the metadata transaction publishes anything:

- the front-end's recheck redoes its own admission against the current state (it returns the signer's
  principal, loaded afresh: a cache never hides a change already committed, see :func:`fresh`);
- core then redoes ``authorize()`` for the write with that principal and checks the bucket is the same one.

A refusal is the one the request would have got at its start (same error class and code), its message
saying the upload was refused once its body had arrived; the received blob is deleted at once (nothing
becomes visible, no orphan is left), the error is marked ``in_flight`` so the front-end gives back a use it
counted, and the request's one audit event records the refusal.

The second admission runs just before the write is queued for the metadata writer: a change committed
in the moment between the two (one metadata write's wait, milliseconds) is not seen, as for a request that
starts in that moment.

What is *not* re-checked: a link's expiry. A link valid when the upload started may finish it, as on AWS
(a presigned PUT of a large file should not be lost because its URL expired while it streamed); what bounds
an upload's length instead is ``max_upload_seconds`` (``core/receive.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from satchel.core.admission import Admission, check_lifetime, refuse_revoked
from satchel.core.errors import AccessDenied, SatchelError
from satchel.core.models import Principal

if TYPE_CHECKING:
    from satchel.core.node import Node

#: Called by core once a write's body has arrived: the principal to publish as, loaded now, or an error.
Recheck = Callable[[], Awaitable[Principal]]

#: Appended to the message of a refusal made when a write was checked again.
REFUSED_IN_FLIGHT = "(checked again once the upload body had arrived: it was not stored)"


def fresh(node: Node) -> None:
    """Make the next lookups read the store: the generation (revocations, buckets, grants) and the
    credentials are checked again now, whatever their caches' intervals."""
    node.gate.expire()
    node.credentials.expire()


def current_signer(node: Node, principal: Principal) -> Principal:
    """``principal`` as it is now: its access key still active and its user still enabled (the errors a
    request signed with it would get now), loaded with its current grants; anonymous stays anonymous."""
    if principal.access_key_id is None:
        if principal.user is None:
            return principal
        # A principal without a key (a console session's): its user, as now.
        current = node.credentials.principal_for_user(principal.user.id)
    else:
        current = node.credentials.resolve(principal.access_key_id)[1]
    # The same request: its facts (for bucket policy conditions) stay with the reloaded principal.
    current = current.with_facts(principal.facts)
    return current.through_link() if principal.via_link else current.signer()


def readmit(node: Node, admission: Admission, principal: Principal) -> None:
    """A link use admitted at the request's start, admitted again now: its registry entry not revoked or
    deleted, its lifetime within the ceilings as they are now, no revocation covering it. Expiry and use
    counts are not checked again (see the module docstring); the signer's rights are core's business."""
    use = dataclasses.replace(admission.use, principal=principal)
    link = admission.link
    if link is not None:
        current = node.store.get_link(link.id)
        if current is None or current.revoked is not None:
            raise AccessDenied("The link has been revoked.")
    bucket = node.bucket(use.bucket) if use.bucket else None
    issued = admission.issued
    now = node.clock.now()
    check_lifetime(link.expires if link is not None else use.expires_at,
                   min(issued.at, now) if issued else None, bucket, node.settings.max_link_lifetime, now)
    if issued is not None:
        refuse_revoked(node.revocations.revoked(issued, use.target(bucket)))


def signer_recheck(node: Node, principal: Principal, admission: Admission | None = None, *,
                   current: Callable[[], Principal] | None = None) -> Recheck:
    """The recheck of a write made as ``principal``, through the link use ``admission`` when there is one:
    the principal as it is now (``current``, else :func:`current_signer`), and the link admitted again."""
    async def again() -> Principal:
        now = current() if current is not None else current_signer(node, principal)
        now = now.with_facts(principal.facts)  # the same request: the same facts for policy conditions
        if admission is not None:
            readmit(node, admission, now)
        return now
    return again


async def give_back(node: Node, admission: Admission | None) -> None:
    """Take back the use of a registry link counted for a write that was then refused in flight (the
    write stored nothing, so it cost nothing: a one-time upload link works again once re-enabled). Only a
    link with a use limit: the others' uses are counted in the audit trail's batch, as PARs' are."""
    if admission is not None and admission.link is not None and admission.link.max_uses is not None:
        await node.write(node.store.give_back_link_use, admission.link.id)


async def confirm(node: Node, recheck: Recheck | None, principal: Principal,
                  authorize: Callable[[Principal], object], blobs: Sequence[str] = ()) -> Principal:
    """Run a write's ``recheck`` (none: ``principal`` stands) and ``authorize`` with what it returns; on a
    refusal delete ``blobs`` (the write's fresh ones) and raise it marked :attr:`~SatchelError.in_flight`."""
    if recheck is None:
        return principal
    fresh(node)
    try:
        principal = await recheck()
        authorize(principal)
    except SatchelError as exc:
        await node.blobs.delete(list(blobs))
        exc.in_flight = True
        exc.message = f"{exc.message} {REFUSED_IN_FLIGHT}"
        raise
    except BaseException:
        await node.blobs.delete(list(blobs))
        raise
    return principal
