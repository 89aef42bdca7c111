"""One handler per (target, method); this table is the whole dispatch of storage requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from satchel.asgi import Response
from satchel.swift.context import SwiftContext
from satchel.swift.handlers import account, container, object
from satchel.swift.router import Target

Handler = Callable[[SwiftContext], Awaitable[Response]]

HANDLERS: dict[tuple[Target, str], Handler] = {
    (Target.ACCOUNT, "GET"): account.get_account,
    (Target.ACCOUNT, "HEAD"): account.head_account,
    (Target.ACCOUNT, "POST"): account.post_account,
    (Target.CONTAINER, "PUT"): container.put_container,
    (Target.CONTAINER, "GET"): container.get_container,
    (Target.CONTAINER, "HEAD"): container.head_container,
    (Target.CONTAINER, "POST"): container.post_container,
    (Target.CONTAINER, "DELETE"): container.delete_container,
    (Target.OBJECT, "GET"): object.get_object,
    (Target.OBJECT, "HEAD"): object.head_object,
    (Target.OBJECT, "PUT"): object.put_object,
    (Target.OBJECT, "POST"): object.post_object,
    (Target.OBJECT, "DELETE"): object.delete_object,
    (Target.OBJECT, "COPY"): object.copy_object,
}
