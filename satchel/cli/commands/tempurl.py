"""``satchel tempurl``: OpenStack Swift TempURLs made by the server, one URL per object, one per line.

Signed with the container's TempURL key (or, when it has none, its account's: set one with
``swift post -m Temp-URL-Key:<secret> CONTAINER``), so they work with any Swift TempURL client and show up
in ``satchel audit`` (kind ``swift``)::

    $ satchel tempurl s3://photos/cat.jpg --expires-in 1h --view
    https://satchel.example.com/v1/AUTH_acme/photos/cat.jpg?temp_url_sig=...&temp_url_expires=1763095206&inline

    $ satchel tempurl s3://photos/a.jpg s3://photos/b.jpg --download      # saved as a.jpg, b.jpg
    $ satchel tempurl --prefix s3://photos/2024/ --expires-in 7d           # every object under it

Options (defaults in brackets): ``--expires-in`` 15m, 1h, 24h, 7d, 90s or seconds [1h]; ``--method`` GET,
HEAD, PUT or DELETE [GET]; ``--view`` (shown in the browser: ``&inline``) or ``--download`` (saved;
``--filename`` names the file) [neither: saved under the object's name, Swift's default]. TempURLs are not
in the link registry (no ``--max-uses``, no one-by-one revocation): clearing the key's slot revokes every
URL signed with it. Objects the caller may not share get no URL: each is reported on stderr as
``Error: KEY: CODE: MESSAGE`` and the exit status is 1.
"""

from __future__ import annotations

import click

from satchel.cli.apiclient import api_options
from satchel.cli.commands.presign import duration_option, link_mode, link_request, parse_s3_urls, print_links


@click.command("tempurl")
@click.argument("objects", nargs=-1, required=True, metavar="S3_URL...")
@click.option("--expires-in", callback=duration_option, default="1h", show_default=True, metavar="DURATION",
              help="Lifetime: 15m, 1h, 24h, 7d, 90s or seconds.")
@click.option("--method", type=click.Choice(["GET", "HEAD", "PUT", "DELETE"], case_sensitive=False),
              metavar="[GET|HEAD|PUT|DELETE]", default="GET", show_default=True,
              help="What the URL allows (PUT: upload to the key).")
@click.option("--view", is_flag=True, help="Make browsers show the file (&inline).")
@click.option("--download", is_flag=True, help="Make browsers save the file (the default of Swift TempURLs).")
@click.option("--filename", default=None, help="With --download: the name the file is saved as.")
@click.option("--prefix", "is_prefix", is_flag=True,
              help="A URL for every object under the single s3://bucket/prefix/ argument.")
@api_options
def tempurl(objects: tuple[str, ...], expires_in: int, method: str, view: bool, download: bool,
            filename: str | None, is_prefix: bool) -> None:
    """Make Swift TempURLs to S3_URL... (s3://container/object; all in one container), one per line."""
    urls = parse_s3_urls(objects)
    body = link_request(urls, prefix=is_prefix, method=method.upper(), expires_in=expires_in, kind="swift",
                        mode=link_mode(download, view, filename), filename=filename, max_uses=None)
    print_links(body, urls[0] if is_prefix else None)
