"""First sightings of SigV2 URLs: the issue time a V2 URL does not carry.

A SigV2 presigned URL says when it expires (``Expires``) but not when it was made, so a lifetime
ceiling measured from "now" refused a long URL at first and accepted it near the end of its life. The
first moment any worker saw the URL (after its signature verified) stands in for its issue time: it is
never later than the real one, so a ceiling measured from it holds for the URL's whole life, and a
revocation "before B" covers every V2 URL first seen before B.

Cost: the first use of a URL in each worker reads (and, for a URL no worker has seen, writes) one row
of ``link_sightings`` through the store, shared by every worker and node; later uses in that worker hit
a per-worker cache and touch nothing. Rows hold a hash of the key id and signature (never the
signature, which would be a credential) and are pruned once the URL has expired.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from satchel.meta.store import Store

Write = Callable[..., Awaitable[float]]

#: Entries per worker; on overflow the expired ones go, and if none had expired, all of them (the
#: store still remembers: a miss costs one transaction, never a wrong answer).
CACHE_SIZE = 100_000


class Sightings:
    """Per-worker cache in front of :meth:`Store.sight_link`."""

    def __init__(self, store: Store, write: Write) -> None:
        self._store = store
        self._write = write
        self._seen: dict[str, tuple[float, float]] = {}

    async def first_seen(self, fingerprint: str, now: float, expires: float) -> float:
        cached = self._seen.get(fingerprint)
        if cached is not None:
            return cached[0]
        first = await self._write(self._store.sight_link, fingerprint, now, expires)
        if len(self._seen) >= CACHE_SIZE:
            self._seen = {k: v for k, v in self._seen.items() if v[1] >= now}
            if len(self._seen) >= CACHE_SIZE:
                self._seen.clear()
        self._seen[fingerprint] = (first, expires)
        return first
