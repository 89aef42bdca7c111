"""The error table: exhaustive over core/errors.py, statuses as AWS documents them, bodies botocore reads."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from botocore.exceptions import ClientError
from defusedxml import ElementTree

from satchel.core import errors as core_errors
from satchel.core.errors import SatchelError
from satchel.s3.errors import S3_ERRORS, error_code, render_error

# From the Amazon S3 error-code list (API reference, "Error responses"); the last rows are ours.
DOCUMENTED: dict[str, tuple[str, int]] = {
    "AccessDenied": ("AccessDenied", 403),
    "InvalidAccessKeyId": ("InvalidAccessKeyId", 403),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch", 403),
    "RequestTimeTooSkewed": ("RequestTimeTooSkewed", 403),
    "AuthorizationHeaderMalformed": ("AuthorizationHeaderMalformed", 400),
    "AuthorizationQueryParametersError": ("AuthorizationQueryParametersError", 400),
    "MissingSecurityHeader": ("MissingSecurityHeader", 400),
    "XAmzContentSHA256Mismatch": ("XAmzContentSHA256Mismatch", 400),
    "InvalidSignatureMethod": ("InvalidRequest", 400),
    "InvalidArgument": ("InvalidArgument", 400),
    "InvalidRequest": ("InvalidRequest", 400),
    "InvalidDigest": ("InvalidDigest", 400),
    "BadDigest": ("BadDigest", 400),
    "IncompleteBody": ("IncompleteBody", 400),
    "RequestTimeout": ("RequestTimeout", 400),
    "MalformedTrailerError": ("MalformedTrailerError", 400),
    "MissingContentLength": ("MissingContentLength", 411),
    "EntityTooLarge": ("EntityTooLarge", 400),
    "EntityTooSmall": ("EntityTooSmall", 400),
    "KeyTooLongError": ("KeyTooLongError", 400),
    "MetadataTooLarge": ("MetadataTooLarge", 400),
    "MalformedXML": ("MalformedXML", 400),
    "MalformedPOSTRequest": ("MalformedPOSTRequest", 400),
    "InvalidPolicyDocument": ("InvalidPolicyDocument", 400),
    "InvalidBucketName": ("InvalidBucketName", 400),
    "InvalidURI": ("InvalidURI", 400),
    "InvalidRange": ("InvalidRange", 416),
    "InvalidPart": ("InvalidPart", 400),
    "InvalidPartOrder": ("InvalidPartOrder", 400),
    "InvalidPartNumber": ("InvalidPartNumber", 416),
    "InvalidStorageClass": ("InvalidStorageClass", 400),
    "TooManyParts": ("TooManyParts", 400),
    "NotImplementedFeature": ("NotImplemented", 501),
    "MethodNotAllowed": ("MethodNotAllowed", 405),
    "RequestHeaderSectionTooLarge": ("RequestHeaderSectionTooLarge", 400),
    "CORSForbidden": ("AccessForbidden", 403),
    "CORSBadRequest": ("BadRequest", 400),
    "NoSuchBucket": ("NoSuchBucket", 404),
    "NoSuchKey": ("NoSuchKey", 404),
    "NoSuchVersion": ("NoSuchVersion", 404),
    "VersioningChanged": ("OperationAborted", 409),
    "NoSuchUpload": ("NoSuchUpload", 404),
    "NoSuchCORSConfiguration": ("NoSuchCORSConfiguration", 404),
    "MalformedACLError": ("MalformedACLError", 400),
    "UnresolvableGrantByEmailAddress": ("UnresolvableGrantByEmailAddress", 400),
    "NoSuchPublicAccessBlockConfiguration": ("NoSuchPublicAccessBlockConfiguration", 404),
    "NoSuchBucketPolicy": ("NoSuchBucketPolicy", 404),
    "MalformedPolicy": ("MalformedPolicy", 400),
    "ServerSideEncryptionConfigurationNotFoundError": ("ServerSideEncryptionConfigurationNotFoundError", 404),
    "BucketAlreadyExists": ("BucketAlreadyExists", 409),
    "BucketAlreadyOwnedByYou": ("BucketAlreadyOwnedByYou", 409),
    "BucketNotEmpty": ("BucketNotEmpty", 409),
    "PreconditionFailed": ("PreconditionFailed", 412),
    "NotModified": ("NotModified", 304),
    "SlowDown": ("SlowDown", 503),
    "InsufficientStorage": ("InsufficientStorage", 507),
    "ServiceUnavailable": ("ServiceUnavailable", 503),
    "InternalError": ("InternalError", 500),
    "NotFound": ("NotFound", 404),
    "Conflict": ("Conflict", 409),
    # tagging and lifecycle
    "InvalidTag": ("InvalidTag", 400),
    "BadRequest": ("BadRequest", 400),
    "NoSuchTagSet": ("NoSuchTagSet", 404),
    "NoSuchLifecycleConfiguration": ("NoSuchLifecycleConfiguration", 404),
}


def _core_error_classes() -> list[type[SatchelError]]:
    return [
        cls
        for _, cls in inspect.getmembers(core_errors, inspect.isclass)
        if issubclass(cls, SatchelError) and cls is not SatchelError and cls.__module__ == core_errors.__name__
    ]


def test_every_core_error_is_mapped() -> None:
    classes = _core_error_classes()
    assert len(classes) >= 40
    assert [c.__name__ for c in classes if c not in S3_ERRORS] == []
    assert set(S3_ERRORS) == set(classes)


def test_table_matches_the_documented_codes() -> None:
    assert {cls.__name__: mapped for cls, mapped in S3_ERRORS.items()} == DOCUMENTED


_CLASSES = sorted(S3_ERRORS, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _CLASSES, ids=[c.__name__ for c in _CLASSES])
def test_each_error_renders_and_botocore_reads_it(peer: Any, cls: type[SatchelError]) -> None:
    code, status = S3_ERRORS[cls]
    got_status, body = render_error(cls("detail <&>", BucketName="b"), resource="/b/k", request_id="RID")
    assert got_status == status
    if status == 304:
        assert body == b""
        return
    with pytest.raises(ClientError) as info:
        peer.parse("ListObjectsV2", body, status=status)
    err = info.value.response["Error"]
    assert (err["Code"], err["Message"], err["BucketName"], err["Resource"]) == (code, "detail <&>", "b", "/b/k")
    assert ElementTree.fromstring(body).findtext("RequestId") == "RID"


def test_modeled_exception_class(peer: Any) -> None:
    _, body = render_error(core_errors.NoSuchBucket(BucketName="nope"), resource="/nope", request_id="r")
    client = peer.clients["path"]
    with pytest.raises(client.exceptions.NoSuchBucket):
        peer.parse("ListObjectsV2", body, status=404)


def test_default_message_and_extra_order() -> None:
    status, body = render_error(
        core_errors.SignatureDoesNotMatch(AWSAccessKeyId="AKID", StringToSign="sts", CanonicalRequest="creq"),
        resource="/",
        request_id="r",
    )
    root = ElementTree.fromstring(body)
    assert status == 403
    assert root.findtext("Message") == core_errors.SignatureDoesNotMatch.default_message
    assert [el.tag for el in root] == [
        "Code",
        "Message",
        "AWSAccessKeyId",
        "StringToSign",
        "CanonicalRequest",
        "Resource",
        "RequestId",
        "HostId",
    ]


def test_double_underscore_extra_names() -> None:
    _, body = render_error(core_errors.AccessDenied(X__Amz__Expires="604801"), resource="/", request_id="r")
    assert ElementTree.fromstring(body).findtext("X-Amz-Expires") == "604801"


class _Unmapped(core_errors.NoSuchKey):
    """A subclass nobody added to the table: must not silently become a 404."""


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("/secret/path/db.sqlite3 locked"), KeyError("secret"), _Unmapped("should not show")],
    ids=["runtime", "keyerror", "unmapped-subclass"],
)
def test_unexpected_errors_are_internal_and_say_nothing(exc: BaseException) -> None:
    status, body = render_error(exc, resource="/b/k", request_id="r")
    root = ElementTree.fromstring(body)
    assert status == 500
    assert root.findtext("Code") == "InternalError"
    assert root.findtext("Message") == core_errors.InternalError.default_message
    assert b"secret" not in body and b"should not show" not in body
    assert error_code(exc) == "InternalError"


def test_error_code() -> None:
    assert error_code(core_errors.AccessDenied()) == "AccessDenied"
    assert error_code(core_errors.NotImplementedFeature()) == "NotImplemented"
    assert error_code(core_errors.InvalidSignatureMethod()) == "InvalidRequest"
