"""The link kinds the console's share dialog offers, as ``GET /_satchel/api/capabilities`` lists them.

Each kind names the management API call that mints it (``endpoint``, a POST taking the ``LinkRequest``
fields it supports) and which options apply, so the dialog shows only what the server does; ``max_lifetime``
is the server's cap for the kind (the setting ``lifetime_setting`` names; 0: none), the bucket's ceiling
applies as well. A new link kind plugs in with :func:`register`, plus, when its mint call takes or answers
another shape than ``LinkRequest`` / ``MintResult``, an adapter in ``static/sharedialog.js``
(``KIND_ADAPTERS``). Swift TempURLs and pre-authenticated requests are registered here, below the S3
kinds, so that the dialog lists them in that order whatever the import order of their front-ends.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from satchel.config import Settings


@dataclass(frozen=True)
class ShareKind:
    kind: str
    label: str
    #: Management API path (under ``/_satchel/api``) that mints it.
    endpoint: str = "/links"
    modes: tuple[str, ...] = ("view", "download")
    max_uses: bool = True
    ip_range: bool = False
    #: The setting that caps its lifetime (0: no server cap; a bucket's own ceiling still applies).
    lifetime_setting: str = field(default="max_link_lifetime", repr=False)

    def json(self, settings: Settings) -> dict[str, Any]:
        out = {**asdict(self), "modes": list(self.modes), "max_lifetime": int(getattr(settings, self.lifetime_setting))}
        del out["lifetime_setting"]
        return out


_KINDS: dict[str, ShareKind] = {}


def register(kind: ShareKind) -> None:
    """Offer a link kind in the share dialog (replacing one of the same name)."""
    _KINDS[kind.kind] = kind


def share_kinds() -> list[ShareKind]:
    return list(_KINDS.values())


register(ShareKind("s3v4", "S3 presigned URL (Signature V4)"))
register(ShareKind("s3v2", "S3 presigned URL (Signature V2, older tools)"))
# Swift TempURLs are minted by the links call ("kind": "swift", core/swiftlinks.py): no link id, so no use limit.
register(ShareKind("swift", "Swift temporary URL (TempURL)", max_uses=False))
# Pre-authenticated requests (core/par/): one POST /pars per object; they may outlive the S3 kinds' 7 days.
register(ShareKind("par", "Pre-authenticated request (PAR)", endpoint="/pars", ip_range=True,
                   lifetime_setting="max_par_lifetime"))
