"""With ``--domain``, ``/p/...`` on a bucket's virtual host is an S3 key (``p/...``), never a PAR; on the
service host it is a PAR's access URL."""

from __future__ import annotations

from typing import Any

import requests

from tests.clients import mgmt
from tests.clients.boto import unique_bucket
from tests.clients.par import create
from tests.clients.server import SatchelProcess
from tests.clients.test_virtual_host import (  # noqa: F401 - fixtures, found by name
    client,
    loopback_dns,
    vhost_server,
)


def test_p_keys_on_a_virtual_host_are_s3(vhost_server: SatchelProcess, loopback_dns: None) -> None:  # noqa: F811
    s3: Any = client(vhost_server, "s3v4")
    name = unique_bucket("vp")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="p/2024/notes.txt", Body=b"an S3 key under p/")
    assert s3.get_object(Bucket=name, Key="p/2024/notes.txt")["Body"].read() == b"an S3 key under p/"
    par = create(vhost_server, bucket=name, accessType="ObjectRead", objectName="p/2024/notes.txt")
    assert requests.get(par["fullPath"], timeout=30).content == b"an S3 key under p/"
    s3.delete_object(Bucket=name, Key="p/2024/notes.txt")
    mgmt.ok(mgmt.call(vhost_server, None, "DELETE", f"/pars/{name}/{par['id']}"))
    s3.delete_bucket(Bucket=name)
