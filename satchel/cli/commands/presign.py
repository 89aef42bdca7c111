"""``satchel presign``: links minted by the server, one URL per object, printed one per line.

Unlike ``aws s3 presign`` (which signs offline), the URL is signed by Satchel for the caller and recorded
in its link registry, so it can be listed, limited to N uses and revoked one by one
(``satchel links``), and every use shows up in ``satchel audit``::

    $ satchel presign s3://reports/q3.pdf --expires-in 24h --download --filename "Q3 report.pdf"
    https://s3.example.com/reports/q3.pdf?x-amz-satchel-link-id=...&X-Amz-Algorithm=AWS4-HMAC-SHA256&...

    $ satchel presign s3://reports/a.pdf s3://reports/b.pdf --max-uses 1      # two one-time links
    $ satchel presign s3://drop/upload.bin --method PUT --expires-in 15m       # curl -T file URL
    $ satchel presign --prefix s3://reports/2024/ --expires-in 7d              # every object under it

Options (defaults in brackets): ``--expires-in`` 15m, 1h, 24h, 7d, 90s or seconds [1h];
``--method`` GET, HEAD, PUT or DELETE [GET]; ``--view`` (Content-Disposition: inline) or
``--download`` (attachment; ``--filename`` names the saved file, default the key's last segment)
[neither: the object's stored headers]; ``--max-uses N`` [unlimited]; ``--version-id V`` serves that version
of the one object (versioned buckets) [the current one]; ``--v2`` for a SigV2 URL
(AWSAccessKeyId/Expires/Signature) [SigV4]. The server may refuse a lifetime longer than the bucket's or
the server's ceiling. Objects the caller may not share (owners and account admins may; members need a
grant made with ``--share``) get no URL: each is reported on stderr as
``Error: KEY: CODE: MESSAGE`` after the good URLs are printed, and the exit status is 1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import click

from satchel.cli.apiclient import ApiOptions, api_options, api_state
from satchel.cli.printable import printable

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d{1,9})([smhd]?)")


def parse_duration(text: str) -> int:
    """Seconds in ``90s``, ``15m``, ``1h``, ``24h``, ``7d`` or a bare number of seconds (at least 1)."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration: use 15m, 1h, 24h, 7d, 90s or a number of seconds")
    seconds = int(found.group(1)) * _UNITS[found.group(2)]
    if seconds < 1:
        raise ValueError(f"{text!r} is not a duration: it must be at least one second")
    return seconds


def duration_option(_ctx: click.Context, param: click.Parameter, value: str | int | None) -> int | None:
    """A click callback (plain, so it works on every click >= 8.1) turning ``--expires-in`` into seconds."""
    if value is None or isinstance(value, int):
        return value
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


@dataclass(frozen=True)
class S3Url:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(text: str) -> S3Url:
    """``s3://bucket/key`` (the key may be empty: ``s3://bucket`` or ``s3://bucket/``).

    The key is taken verbatim, never percent-decoded: it is the object's name exactly as in ``aws s3``.
    """
    if not text.startswith("s3://"):
        raise ValueError(f"{text!r} is not an s3://bucket/key URL")
    bucket, _, key = text[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"{text!r} names no bucket")
    return S3Url(bucket, key)


def link_request(urls: list[S3Url], *, prefix: bool, method: str, expires_in: int, kind: str, mode: str | None,
                 filename: str | None, max_uses: int | None, version_id: str | None = None) -> dict[str, Any]:
    """The ``POST /_satchel/api/links`` body for one bucket's worth of arguments."""
    buckets = sorted({url.bucket for url in urls})
    if len(buckets) != 1:
        raise click.UsageError(f"all objects must be in one bucket (got {', '.join(buckets)})")
    if prefix:
        if len(urls) != 1:
            raise click.UsageError("--prefix takes exactly one s3://bucket/prefix/ argument")
    else:
        empty = [str(url) for url in urls if not url.key]
        if empty:
            raise click.UsageError(f"{empty[0]} names no object (use --prefix to sign everything under a prefix)")
    return {
        "bucket": buckets[0],
        "keys": [] if prefix else [url.key for url in urls],
        "prefix": urls[0].key if prefix else None,
        "method": method,
        "expires_in": expires_in,
        "kind": kind,
        "mode": mode,
        "filename": filename,
        "max_uses": max_uses,
        **({"version_id": version_id} if version_id is not None else {}),
    }


def link_mode(download: bool, view: bool, filename: str | None) -> str | None:
    if download and view:
        raise click.UsageError("--download and --view exclude each other")
    if filename is not None and not download:
        raise click.UsageError("--filename goes with --download")
    return "download" if download else "view" if view else None


@click.command("presign")
@click.argument("objects", nargs=-1, required=True, metavar="S3_URL...")
@click.option("--expires-in", callback=duration_option, default="1h", show_default=True, metavar="DURATION",
              help="Lifetime: 15m, 1h, 24h, 7d, 90s or seconds.")
@click.option("--method", type=click.Choice(["GET", "HEAD", "PUT", "DELETE"], case_sensitive=False),
              metavar="[GET|HEAD|PUT|DELETE]",
              default="GET", show_default=True, help="What the link allows (PUT: upload to the key).")
@click.option("--download", is_flag=True, help="Make browsers save the file (Content-Disposition: attachment).")
@click.option("--filename", default=None, help="With --download: the name the file is saved as.")
@click.option("--view", is_flag=True, help="Make browsers show the file (Content-Disposition: inline).")
@click.option("--max-uses", type=click.IntRange(min=1), default=None, help="Refuse the link after N uses.")
@click.option("--version-id", default=None,
              help="Versioning: a link to this version of the one object; it keeps serving those bytes.")
@click.option("--v2", is_flag=True, help="A SigV2 URL (AWSAccessKeyId/Expires/Signature) instead of SigV4.")
@click.option("--prefix", "is_prefix", is_flag=True,
              help="Sign every object under the single s3://bucket/prefix/ argument.")
@api_options
def presign(objects: tuple[str, ...], expires_in: int, method: str, download: bool, filename: str | None,
            view: bool, max_uses: int | None, version_id: str | None, v2: bool, is_prefix: bool) -> None:
    """Mint links to S3_URL... (s3://bucket/key; all in one bucket) and print one URL per line."""
    urls = parse_s3_urls(objects)
    body = link_request(urls, prefix=is_prefix, method=method.upper(), expires_in=expires_in,
                        kind="s3v2" if v2 else "s3v4", mode=link_mode(download, view, filename), filename=filename,
                        max_uses=max_uses, version_id=version_id)
    print_links(body, urls[0] if is_prefix else None)


def parse_s3_urls(objects: tuple[str, ...]) -> list[S3Url]:
    try:
        return [parse_s3_url(text) for text in objects]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def print_links(body: dict[str, Any], prefix: S3Url | None) -> None:
    """Ask the server for the links of ``body``; print one URL per line, then the refusals on stderr (exit 1)."""
    options: ApiOptions = api_state()
    answer = options.client().post("/links", body)
    entries = answer.get("links") if isinstance(answer, dict) else None
    if not isinstance(entries, list):
        raise click.ClickException("InvalidResponse: the answer has no list of links")
    if options.json:
        click.echo(json.dumps(answer, indent=2))
    failed = False
    for entry in entries:
        if entry.get("url"):
            if not options.json:
                click.echo(entry["url"])
            continue
        failed = True
        error = entry.get("error") or {}
        click.echo(printable(f"Error: {entry.get('key')}: {error.get('code')}: {error.get('message')}"), err=True)
    if prefix is not None and not entries:
        click.echo(f"Error: no object under {prefix}", err=True)
        failed = True
    if failed:
        raise SystemExit(1)
