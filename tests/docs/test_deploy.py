"""deploy/: the systemd unit, the nginx and HAProxy fronts, checked by their own tools, and a real
Satchel reached through each front over TLS (Host kept, bodies streamed, X-Forwarded-For set, never
appended).

The examples are adapted only where a test machine differs from a server (ports, certificate paths, the
binary's path, HAProxy's maxconn); each adaptation asserts that the text it replaces is still in the
example, so the examples cannot drift away from what is tested.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.clients.server import SatchelProcess, free_port
from tests.docs.guide import require

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SPOOFED = "203.0.113.9"


@dataclass(frozen=True)
class Front:
    endpoint: str  # nginx's https URL
    cert: Path  # its self-signed certificate, to verify it
    server: SatchelProcess  # the Satchel behind it


def adapt(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"the example no longer holds {old!r}"
        text = text.replace(old, new)
    return text


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    text = (DEPLOY / "satchel.service").read_text()
    for setting in ("User=satchel", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                    "ReadWritePaths=/var/lib/satchel", "CapabilityBoundingSet=\n", "LimitNOFILE=",
                    "StateDirectory=satchel", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert setting in text, setting
    unit = tmp_path / "satchel.service"
    unit.write_text(adapt(text, {"/opt/satchel/bin/satchel": str(Path(sys.executable).parent / "satchel")}))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "satchel.service" not in result.stderr, result.stderr  # no warning about the unit


def test_the_sample_settings_load() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "satchel"), "config", "show", "--json",
                             "--config", str(DEPLOY / "satchel.toml")],
                            capture_output=True, text=True, timeout=60, check=False,
                            env={k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")})
    assert result.returncode == 0, result.stderr
    assert "https://files.example.com" in result.stdout


def nginx_main_config(prefix: Path, site: Path) -> str:
    return f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


def nginx_command(directory: Path, ports: tuple[int, int, int]) -> list[str]:
    """deploy/nginx.conf on loopback ports, included in a main config that keeps everything in directory."""
    satchel_port, http_port, https_port = ports
    cert, key = directory / "cert.pem", directory / "key.pem"
    site = directory / "satchel.conf"
    site.write_text(adapt((DEPLOY / "nginx.conf").read_text(), {
        "listen 80;": f"listen 127.0.0.1:{http_port};", "listen [::]:80;\n": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;", "listen [::]:443 ssl;\n": "",
        "server 127.0.0.1:9000;": f"server 127.0.0.1:{satchel_port};",
        "/etc/ssl/certs/files.example.com.pem": str(cert),
        "/etc/ssl/private/files.example.com.key": str(key),
    }))
    main = directory / "nginx.conf"
    main.write_text(nginx_main_config(directory, site))
    return [require("nginx"), "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(main)]


def haproxy_command(directory: Path, ports: tuple[int, int, int]) -> list[str]:
    """deploy/haproxy.cfg on loopback ports, in the foreground (-db)."""
    satchel_port, http_port, https_port = ports
    return haproxy_example(directory, "haproxy.cfg", (http_port, https_port),
                           {"server satchel1 127.0.0.1:9000": f"server satchel1 127.0.0.1:{satchel_port}"})


def haproxy_example(directory: Path, example: str, ports: tuple[int, int], servers: dict[str, str]) -> list[str]:
    """A deploy/ HAProxy example binding loopback ``ports`` (http, https), its ``servers`` replaced."""
    http_port, https_port = ports
    bundle = directory / "bundle.pem"
    bundle.write_bytes((directory / "cert.pem").read_bytes() + (directory / "key.pem").read_bytes())
    config = directory / "haproxy.cfg"
    config.write_text(adapt((DEPLOY / example).read_text(), {
        "bind :443 ssl crt /etc/haproxy/certs/files.example.com.pem": f"bind 127.0.0.1:{https_port} ssl crt {bundle}",
        "bind :80\n": f"bind 127.0.0.1:{http_port}\n",
        "log /dev/log local0": "log stdout local0",
        "maxconn 20000": "maxconn 1000",  # 2 descriptors each: more than a test machine's limit may allow
        **servers,
    }))
    return [require("haproxy"), "-db", "-f", str(config)]


def wait_for_front(endpoint: str, cert: Path, proxy: subprocess.Popen[bytes], log: Path) -> None:
    """Until the proxy answers the health check over TLS (its log in the failure otherwise)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            if requests.get(f"{endpoint}/_satchel/health", verify=str(cert), timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert proxy.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


FRONTS = {"nginx": (nginx_command, "-t"), "haproxy": (haproxy_command, "-c")}


@pytest.fixture(params=sorted(FRONTS))
def front(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Front]:
    """The deploy/ example of one proxy, on loopback ports, in front of a real Satchel."""
    make_command, check_flag = FRONTS[request.param]
    ports = (free_port(), free_port(), free_port())
    directory = tmp_path / request.param
    directory.mkdir()
    cert, _ = self_signed(directory)
    command = make_command(directory, ports)
    checked = subprocess.run([*command, check_flag], capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    server = SatchelProcess(tmp_path / "data", port=ports[0])
    server.start()
    log = directory / "proxy.log"
    with log.open("wb") as out:
        proxy = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
    endpoint = f"https://localhost:{ports[2]}"
    try:
        wait_for_front(endpoint, cert, proxy, log)
        yield Front(endpoint, cert, server)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        server.stop()


def test_the_front_keeps_host_streams_bodies_and_sets_the_client_address(front: Front) -> None:
    endpoint, cert, server = front.endpoint, front.cert, front.server
    creds = (server.root.access_key, server.root.secret_key)
    s3 = boto3.client("s3", endpoint_url=endpoint, verify=str(cert), region_name="us-east-1",
                      aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                      config=Config(signature_version="s3v4"))
    bucket = f"deploy-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(3 * 1024 * 1024 + 17)
    s3.put_object(Bucket=bucket, Key="big.bin", Body=body)  # SigV4 over the Host the proxy passed on

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "streamed.bin"},
                                        ExpiresIn=300)
    chunks = [os.urandom(256 * 1024) for _ in range(8)]
    answer = requests.put(put_url, data=iter(chunks), verify=str(cert), timeout=30)  # chunked upload
    assert answer.status_code == 200, answer.text

    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big.bin"}, ExpiresIn=300)
    got = requests.get(get_url, verify=str(cert), timeout=30, headers={"X-Forwarded-For": SPOOFED})
    assert got.status_code == 200 and got.content == body
    assert s3.get_object(Bucket=bucket, Key="streamed.bin")["Body"].read() == b"".join(chunks)

    events = _use_events(server.endpoint, bucket, creds)
    assert events and all(event["client_ip"] == "127.0.0.1" for event in events), events
    assert SPOOFED not in json.dumps(events)


def test_a_refused_expect_100_continue_upload_does_not_poison_the_connection(front: Front) -> None:
    """botocore sends ``Expect: 100-continue`` with uploads and, answered with a refusal before it sent the
    body, reuses the connection without sending it: the proxy must then close that connection (as Satchel
    asks) rather than read the client's next request as the missing body (found by the two-node run:
    HAProxy did; nginx answers 100 Continue itself, so the body always comes)."""
    host, port = front.endpoint.split("://")[1].split(":")
    context = ssl.create_default_context(cafile=str(front.cert))
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as conn:
        conn.sendall(f"PUT /missing-{uuid.uuid4().hex[:12]}/k HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n".encode())
        first = conn.recv(65536)
        if first.startswith(b"HTTP/1.1 100 "):  # nginx asks for the body itself (and then drains it)
            conn.sendall(b"hello")
            first = first.split(b"\r\n\r\n", 1)[1] or conn.recv(65536)
        assert first.startswith(b"HTTP/1.1 404 "), first
        with contextlib.suppress(OSError):  # a close already under way may refuse the write
            conn.sendall(f"GET /_satchel/health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        try:
            second = conn.recv(65536)
        except OSError:
            second = b""
    # Closed (the client then retries on a new connection), or the next request answered as itself.
    assert second == b"" or second.startswith(b"HTTP/1.1 200 "), second


def _use_events(endpoint: str, bucket: str, creds: tuple[str, str]) -> list[dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATCHEL_", "AWS_"))}
    env.update(SATCHEL_ENDPOINT=endpoint, AWS_ACCESS_KEY_ID=creds[0],
               AWS_SECRET_ACCESS_KEY=creds[1], AWS_DEFAULT_REGION="us-east-1")
    deadline = time.monotonic() + 5
    while True:  # uses are written in batches every 0.25 s
        result = subprocess.run([str(Path(sys.executable).parent / "satchel"), "audit", "--bucket", bucket,
                                 "--action", "use", "--json"], capture_output=True, text=True, env=env,
                                timeout=60, check=True)
        events: list[dict[str, object]] = json.loads(result.stdout)["events"]
        if len(events) >= 2 or time.monotonic() > deadline:
            return events
        time.sleep(0.2)
