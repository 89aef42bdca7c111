"""The XML of S3 ACLs (AccessControlPolicy) and Block Public Access (PublicAccessBlockConfiguration)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from satchel.core.acl import GROUP_URI, PERMISSIONS, AclView, Grantee
from satchel.core.errors import MalformedACLError, MalformedXML
from satchel.core.models import PublicAccessBlock
from satchel.s3.xml import XSI_NS, _children, _doc, _el, _local, _owner, _parse, _text

#: An AccessControlPolicy of 100 grants is a few KiB; this bounds what we parse.
MAX_ACL_XML = 64 * 1024
MAX_BLOCK_XML = 4096
_XSI_TYPE = f"{{{XSI_NS}}}type"
_BLOCK_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def access_control_policy(view: AclView) -> bytes:
    grants = []
    for grant in view.grants:
        uri = GROUP_URI.get(grant.grantee)
        if uri is not None:
            who = f'<Grantee xmlns:xsi="{XSI_NS}" xsi:type="Group">{_el("URI", uri)}</Grantee>'
        else:
            who = (f'<Grantee xmlns:xsi="{XSI_NS}" xsi:type="CanonicalUser">{_el("ID", grant.grantee)}'
                   f'{_el("DisplayName", view.names.get(grant.grantee, grant.grantee))}</Grantee>')
        grants.append(f"<Grant>{who}{_el('Permission', grant.permission)}</Grant>")
    return _doc("AccessControlPolicy", (
        _owner("Owner", view.owner_id, view.names.get(view.owner_id, view.owner_id)),
        f"<AccessControlList>{''.join(grants)}</AccessControlList>",
    ))


def parse_access_control_policy(body: bytes) -> list[tuple[Grantee, str]]:
    """PutBucketAcl / PutObjectAcl body -> (grantee, permission) pairs, unresolved (``core/acl.resolve``)."""
    root = _parse(body, "AccessControlPolicy", MAX_ACL_XML)
    lists = _children(root, "AccessControlList")
    if len(lists) > 1 or len(_children(root, "Owner")) > 1:
        raise MalformedACLError()
    # No list at all is no grant (botocore leaves an empty Grants list out): only the owner's control stays.
    return [_grant(element) for element in _children(lists[0], "Grant")] if lists else []


def _grant(element: Element) -> tuple[Grantee, str]:
    grantees = _children(element, "Grantee")
    permission = _text(element, "Permission")
    # One Grantee and one Permission, as AWS insists: which of two would count is anybody's guess.
    if len(grantees) != 1 or permission is None or len(_children(element, "Permission")) != 1:
        raise MalformedACLError()
    grantee = grantees[0]
    kind = grantee.get(_XSI_TYPE) or ""
    if any(len(_children(grantee, name)) > 1 for name in ("ID", "URI", "EmailAddress", "DisplayName")):
        raise MalformedACLError()
    if kind == "CanonicalUser":
        return Grantee("id", (_text(grantee, "ID") or "").strip()), _permission(permission)
    if kind == "Group":
        return Grantee("uri", (_text(grantee, "URI") or "").strip()), _permission(permission)
    if kind == "AmazonCustomerByEmail":
        return Grantee("email", (_text(grantee, "EmailAddress") or "").strip()), _permission(permission)
    raise MalformedACLError(f"Unknown grantee type {kind!r}.")


def _permission(text: str) -> str:
    if text.strip() not in PERMISSIONS:
        raise MalformedACLError(f"Unknown permission {text.strip()!r}.")
    return text.strip()


def public_access_block(block: PublicAccessBlock) -> bytes:
    values = (block.block_public_acls, block.ignore_public_acls, block.block_public_policy,
              block.restrict_public_buckets)
    return _doc("PublicAccessBlockConfiguration",
                (_el(name, "true" if value else "false") for name, value in zip(_BLOCK_FIELDS, values, strict=True)))


def parse_public_access_block(body: bytes) -> PublicAccessBlock:
    """A field left out is false, as on AWS; one given twice, or another value than true/false, is MalformedXML."""
    root = _parse(body, "PublicAccessBlockConfiguration", MAX_BLOCK_XML)
    values: dict[str, bool] = {}
    for child in root:
        name, text = _local(child.tag), (child.text or "").strip().lower()
        if name not in _BLOCK_FIELDS or name in values or text not in ("true", "false"):
            raise MalformedXML()
        values[name] = text == "true"
    return PublicAccessBlock(*(values.get(name, False) for name in _BLOCK_FIELDS))
