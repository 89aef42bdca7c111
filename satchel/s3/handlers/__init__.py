"""One handler per S3 operation; this table is the whole dispatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from satchel.asgi import Response
from satchel.core.errors import NotImplementedFeature
from satchel.core.node import Node
from satchel.s3.context import S3Context
from satchel.s3.endpoints import Op
from satchel.s3.handlers import (
    acl,
    bucket,
    copy,
    encryption,
    lifecycle,
    listing,
    multipart,
    object,
    policy,
    post_object,
    tagging,
    versioning,
)

Handler = Callable[[Node, S3Context], Awaitable[Response]]


async def not_implemented(node: Node, ctx: S3Context) -> Response:
    name = ctx.endpoint.unsupported or "this operation"
    raise NotImplementedFeature(f"{name} is not implemented by Satchel.")


HANDLERS: dict[Op, Handler] = {
    Op.ListBuckets: bucket.list_buckets,
    Op.CreateBucket: bucket.create_bucket,
    Op.HeadBucket: bucket.head_bucket,
    Op.DeleteBucket: bucket.delete_bucket,
    Op.GetBucketLocation: bucket.get_bucket_location,
    Op.GetBucketVersioning: versioning.get_bucket_versioning,
    Op.PutBucketVersioning: versioning.put_bucket_versioning,
    Op.ListObjectVersions: versioning.list_object_versions,
    Op.GetBucketAcl: acl.get_bucket_acl,
    Op.PutBucketAcl: acl.put_bucket_acl,
    Op.GetPublicAccessBlock: acl.get_public_access_block,
    Op.PutPublicAccessBlock: acl.put_public_access_block,
    Op.DeletePublicAccessBlock: acl.delete_public_access_block,
    Op.GetBucketCors: bucket.get_bucket_cors,
    Op.GetBucketEncryption: encryption.get_bucket_encryption,
    Op.PutBucketEncryption: encryption.put_bucket_encryption,
    Op.DeleteBucketEncryption: encryption.delete_bucket_encryption,
    Op.PutBucketCors: bucket.put_bucket_cors,
    Op.DeleteBucketCors: bucket.delete_bucket_cors,
    Op.ListObjects: listing.list_objects,
    Op.ListObjectsV2: listing.list_objects_v2,
    Op.ListMultipartUploads: listing.list_multipart_uploads,
    Op.DeleteObjects: object.delete_objects,
    Op.PostObject: post_object.post_object,
    Op.PutObject: object.put_object,
    Op.GetObject: object.get_object,
    Op.HeadObject: object.head_object,
    Op.DeleteObject: object.delete_object,
    Op.GetObjectAcl: acl.get_object_acl,
    Op.PutObjectAcl: acl.put_object_acl,
    Op.CopyObject: copy.copy_object,
    Op.CreateMultipartUpload: multipart.create_multipart_upload,
    Op.UploadPart: multipart.upload_part,
    Op.UploadPartCopy: copy.upload_part_copy,
    Op.CompleteMultipartUpload: multipart.complete_multipart_upload,
    Op.AbortMultipartUpload: multipart.abort_multipart_upload,
    Op.ListParts: multipart.list_parts,
    Op.GetBucketPolicy: policy.get_bucket_policy,
    Op.PutBucketPolicy: policy.put_bucket_policy,
    Op.DeleteBucketPolicy: policy.delete_bucket_policy,
    Op.GetBucketPolicyStatus: policy.get_bucket_policy_status,
    Op.GetObjectTagging: tagging.get_object_tagging,
    Op.PutObjectTagging: tagging.put_object_tagging,
    Op.DeleteObjectTagging: tagging.delete_object_tagging,
    Op.GetBucketTagging: tagging.get_bucket_tagging,
    Op.PutBucketTagging: tagging.put_bucket_tagging,
    Op.DeleteBucketTagging: tagging.delete_bucket_tagging,
    Op.GetBucketLifecycleConfiguration: lifecycle.get_bucket_lifecycle,
    Op.PutBucketLifecycleConfiguration: lifecycle.put_bucket_lifecycle,
    Op.DeleteBucketLifecycle: lifecycle.delete_bucket_lifecycle,
    Op.NotImplemented: not_implemented,
}
