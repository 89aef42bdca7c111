"""kill -9 right after a mint call answered (issue 9, point 18): every link the answer returned has its
mint event after the restart, because the event commits in the transaction that registers the link.

Before, mint events waited up to 0.25 s in the audit buffer while the link already worked: a crash in
that window left working links nobody could trace to their minting.
"""

from __future__ import annotations

import boto3
from botocore.config import Config

from satchel.cli.apiclient import ApiClient, Secret
from tests.clients.server import REGION, SatchelProcess

ROUNDS = 2
KEYS = [f"doc/{i:03d}.txt" for i in range(50)]


def test_every_returned_link_has_its_mint_event_after_kill9(server: SatchelProcess) -> None:
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                      aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="minted")
    for key in KEYS:
        s3.put_object(Bucket="minted", Key=key, Body=key.encode())

    returned: set[str] = set()
    for _ in range(ROUNDS):
        api = ApiClient(server.endpoint, REGION, Secret(server.access_key, server.secret_key))
        answer = api.post("/links", {"bucket": "minted", "keys": KEYS, "expires_in": 600})
        returned |= {item["link"]["id"] for item in answer["links"]}
        server.kill9()  # at once: well inside the audit buffer's 0.25 s
        server.start()

    api = ApiClient(server.endpoint, REGION, Secret(server.access_key, server.secret_key))
    events = api.get("/audit", {"action": "mint", "bucket": "minted", "limit": 10000})["events"]
    assert len(returned) == ROUNDS * len(KEYS)
    assert returned <= {e["link_id"] for e in events}
    assert len(events) == len(returned)  # exactly one each
