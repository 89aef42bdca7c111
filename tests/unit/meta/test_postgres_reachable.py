"""Down or refused (``meta/postgres_db.py`` ``check_reachable``): a node waits out a PostgreSQL that is
down and fails at once on one that refuses it, against the tests' real cluster."""

from __future__ import annotations

import socket
import time

import pytest

from satchel.core.errors import ServiceUnavailable
from satchel.meta import UnusableStore
from satchel.meta.postgres_db import check_reachable
from tests import pgcluster


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def test_nothing_listening_is_down() -> None:
    began = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="Cannot reach the metadata database"):
        check_reachable(f"postgresql://satchel@127.0.0.1:{_closed_port()}/postgres", timeout=2)
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(("url", "reason"), [
    ("/satchel_never_created", 'database "satchel_never_created" does not exist'),
    ("/postgres?user=nobody_here", 'role "nobody_here" does not exist'),
    ("/postgres?sslmode=require", "SSL"),
    ("/postgres?sslmode=bogus", "sslmode"),
    ("/postgres?no_such_option=1", "no_such_option"),
])
def test_a_server_that_refuses_or_a_url_that_cannot_work_is_unusable(
        pg_cluster: pgcluster.PgCluster, url: str, reason: str) -> None:
    with pytest.raises(UnusableStore, match=reason):
        check_reachable(f"postgresql://satchel@127.0.0.1:{pg_cluster.port}{url}", timeout=2)


def test_a_server_that_answers_is_reachable(pg_cluster: pgcluster.PgCluster) -> None:
    check_reachable(pg_cluster.url(), timeout=2)


def test_a_malformed_url_is_quoted_back_without_its_password() -> None:
    with pytest.raises(UnusableStore) as raised:
        check_reachable("postgresql://u:s3cr%zzet@127.0.0.1:1/db", timeout=1)
    assert "percent-encoded" in str(raised.value)
    assert "s3cr" not in str(raised.value)
