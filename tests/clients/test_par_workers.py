"""Two workers: a PAR deleted through one worker is refused by both at once (every use reads the PAR from
the store; nothing about it is cached), and its use limit is exact across processes."""

from __future__ import annotations

import concurrent.futures

import requests

from tests.clients import mgmt
from tests.clients.boto import make_client
from tests.clients.par import assert_refused, create
from tests.clients.server import SatchelProcess
from tests.clients.test_workers import server as two_workers  # noqa: F401 - the fixture, found by this name


def _pids(proc: SatchelProcess, count: int) -> set[str]:
    """Which worker answered, by the process prefix of the request id, over ``count`` fresh connections."""
    return {requests.get(proc.endpoint + "/p/x", timeout=30).headers["opc-request-id"][3:11] for _ in range(count)}


def test_delete_is_immediate_on_every_worker(two_workers: SatchelProcess) -> None:  # noqa: F811 - the fixture
    s3 = make_client(two_workers)
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="k", Body=b"v")
    par = create(two_workers, bucket="shared", accessType="ObjectRead", objectName="k")
    limited = create(two_workers, bucket="shared", accessType="ObjectRead", objectName="k", maxUses=7)
    assert len(_pids(two_workers, 40)) == 2  # both workers answer
    assert requests.get(par["fullPath"], timeout=30).content == b"v"
    mgmt.ok(mgmt.call(two_workers, None, "DELETE", f"/pars/shared/{par['id']}"))
    for _ in range(40):  # new connections land on both workers; not one serves the deleted PAR
        assert_refused(requests.get(par["fullPath"], timeout=30))
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: requests.get(limited["fullPath"], timeout=60).status_code, range(20)))
    assert replies.count(200) == 7
