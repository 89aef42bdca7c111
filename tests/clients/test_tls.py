"""HTTPS: ``satchel serve`` with a self-signed certificate (made here with ``cryptography``), boto3
verifying it (``verify=`` the certificate file), minted links and POST upload locations with https URLs,
keep-alive over TLS, and
SIGHUP loading a renewed certificate for new connections without a restart."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.clients import mgmt
from tests.clients.boto import unique_bucket
from tests.clients.server import SatchelProcess, eventually


def self_signed(cert: Path, key: Path, name: str) -> None:
    """A certificate for 127.0.0.1 (and localhost) signed by its own key, named ``name``."""
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(private.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def served_name(port: int) -> str:
    """The common name of the certificate the server presents to a new connection."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    name = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return str(name)


def tls_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, name: str) -> SatchelProcess:
    """A server of a module's own, serving HTTPS with a fresh self-signed certificate named ``name``."""
    root: Path = tmp_path_factory.mktemp("tls")
    self_signed(root / "cert.pem", root / "key.pem", name)
    config = root / "satchel.toml"
    config.write_text(f'tls_cert = "{root / "cert.pem"}"\ntls_key = "{root / "key.pem"}"\n')
    proc = SatchelProcess(root / "data", extra_args=("--config", str(config)), ca_file=root / "cert.pem")
    request.addfinalizer(proc.stop)
    proc.start()
    return proc


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SatchelProcess:
    return tls_server(tmp_path_factory, request, "satchel-first")


def test_boto3_verifies_and_links_are_https(server: SatchelProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    assert server.ca_file is not None
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name=server.region, verify=str(server.ca_file),
                      aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    bucket = unique_bucket("tls")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"over tls")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"over tls"

    session, verify = requests.Session(), str(server.ca_file)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    for _ in range(3):  # one connection, kept alive over TLS
        assert session.get(url, verify=verify, timeout=10).content == b"over tls"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))  # for the management API client
    minted = mgmt.call(server, None, "POST", "/links", {"bucket": bucket, "keys": ["k"]})
    link = minted.json()["links"][0]["url"]
    assert link.startswith(f"https://127.0.0.1:{server.port}/")
    assert session.get(link, verify=verify, timeout=10).content == b"over tls"
    form = s3.generate_presigned_post(bucket, "posted", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}], ExpiresIn=300)
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"form")}, verify=verify,
                           timeout=10)
    assert posted.status_code == 201, posted.text
    assert posted.headers["Location"].startswith(f"https://127.0.0.1:{server.port}/{bucket}/posted")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=10)  # an unknown certificate is refused by a verifying client


def test_sighup_reloads_the_certificate(server: SatchelProcess) -> None:
    assert server.ca_file is not None and server._proc is not None
    assert served_name(server.port) == "satchel-first"
    self_signed(server.ca_file, server.ca_file.with_name("key.pem"), "satchel-renewed")
    os.kill(server._proc.pid, signal.SIGHUP)
    assert eventually(lambda: served_name(server.port) == "satchel-renewed")
    assert requests.get(f"{server.endpoint}/_satchel/health", verify=str(server.ca_file), timeout=10).ok


def test_sigterm_does_not_wait_for_idle_tls_clients(server: SatchelProcess) -> None:
    """A client idling on a kept-alive TLS connection never answers the server's close_notify; shutdown
    must not wait for it (uvloop would, 30 s). Last in this module: it stops the server."""
    assert server.ca_file is not None and server._proc is not None
    context = ssl.create_default_context(cafile=str(server.ca_file))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as idle:
        idle.sendall(b"GET /_satchel/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        os.kill(server._proc.pid, signal.SIGTERM)
        assert server._proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
