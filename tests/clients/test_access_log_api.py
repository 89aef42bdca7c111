"""The access log of the management API never shows a minted link's id (a bearer secret, as
``satchel/logs.py`` treats it): ``GET`` and ``DELETE /_satchel/api/links/<id>`` and the audit query's
``link_id`` used to be logged in clear. A real ``satchel serve`` with the access log on."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.clients import mgmt
from tests.clients.boto import make_client, unique_bucket
from tests.clients.server import SatchelProcess, configured_server, eventually


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return configured_server(tmp_path_factory, request, "apilog", "access_log = true\n")


def test_link_ids_are_redacted_from_management_api_lines(server: SatchelProcess) -> None:
    bucket = unique_bucket("apilog")
    s3 = make_client(server)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    minted = mgmt.ok(mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["k"]}))
    link_id = minted["links"][0]["link"]["id"]
    mgmt.ok(mgmt.call(server, None, "GET", f"/links/{link_id}"))
    mgmt.ok(mgmt.call(server, None, "GET", f"/audit?link_id={link_id}&limit=5"))
    mgmt.ok(mgmt.call(server, None, "DELETE", f"/links/{link_id}"))

    assert eventually(lambda: server.log_path.read_text(errors="replace").count("/_satchel/api/") >= 4)
    log = server.log_path.read_text(errors="replace")
    assert link_id not in log and quote(link_id) not in log
    assert '"GET /_satchel/api/links/REDACTED HTTP/1.1" 200' in log
    assert '"DELETE /_satchel/api/links/REDACTED HTTP/1.1" 200' in log
    assert "/_satchel/api/audit?link_id=REDACTED&limit=5" in log
