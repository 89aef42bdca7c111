"""What every Swift handler receives: the request and an already-decided principal.

Handlers take only a :class:`SwiftContext`, so another way in (a TempURL, a FormPost) builds one with
the principal it vouches for (the key-setter, through a link) and calls the same handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from satchel.asgi import Request
from satchel.core.errors import NoSuchBucket
from satchel.core.inflight import Recheck
from satchel.core.models import Account, Bucket, Principal
from satchel.core.node import Node


@dataclass(slots=True)
class SwiftContext:
    node: Node
    request: Request
    principal: Principal
    #: The account of the storage URL (``/v1/AUTH_<name>``).
    account: Account
    container: str | None = None
    obj: str | None = None
    request_id: str = ""
    #: A write's second admission, made once its body has arrived (``core/inflight.py``).
    recheck: Recheck | None = None

    @property
    def bucket_name(self) -> str:
        assert self.container is not None  # the router only routes container and object requests with one
        return self.container

    @property
    def key(self) -> str:
        assert self.obj is not None  # the router only routes object requests with one
        return self.obj

    def bucket(self, name: str | None = None) -> Bucket:
        """The container as a bucket *of this account*: a bucket of another account is not in this
        account's namespace (404), whatever its name."""
        name = name or self.bucket_name
        bucket = self.node.bucket(name)
        if bucket is None or bucket.account_id != self.account.id:
            raise NoSuchBucket(BucketName=name)
        return bucket
