"""The coalescing transport under uvicorn: what reaches the socket, and in which order."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from satchel.protocol import HOLD_LIMIT, CoalescingTransport


class RecordingTransport:
    """The real transport's side of the contract: it records each write as one socket send."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.sent.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def write_eof(self) -> None:
        self.sent.append(b"<eof>")

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def run(steps: object) -> RecordingTransport:
    """Run ``steps(transport)`` inside one loop step, then let the loop go round once more."""
    real = RecordingTransport()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        steps(CoalescingTransport(real, loop))  # type: ignore[arg-type, operator]
        await asyncio.sleep(0)

    asyncio.run(main())
    return real


def test_headers_and_small_body_leave_as_one_send() -> None:
    real = run(lambda t: (t.write(b"HTTP/1.1 200 OK\r\n\r\n"), t.write(b"x" * 1024)))
    assert real.sent == [b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 1024]


def test_nothing_is_sent_before_the_loop_step_ends() -> None:
    real = RecordingTransport()
    seen: list[list[bytes]] = []

    async def main() -> None:
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"a")
        seen.append(list(real.sent))
        await asyncio.sleep(0)
        seen.append(list(real.sent))

    asyncio.run(main())
    assert seen == [[], [b"a"]]


def test_a_large_write_goes_out_at_once_after_what_was_held() -> None:
    big = b"B" * (HOLD_LIMIT + 1)
    real = run(lambda t: (t.write(b"head"), t.write(big), t.write(b"tail")))
    assert real.sent == [b"head", big, b"tail"]


def test_a_large_write_alone_is_not_copied_or_held() -> None:
    big = memoryview(b"B" * (HOLD_LIMIT + 1))
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.new_event_loop())  # type: ignore[arg-type]
    transport.write(big)
    assert real.sent == [bytes(big)]


def test_close_sends_what_is_held_first() -> None:
    real = run(lambda t: (t.write(b"last words"), t.close()))
    assert real.sent == [b"last words"] and real.closed


def test_write_eof_sends_what_is_held_first() -> None:
    real = run(lambda t: (t.write(b"body"), t.write_eof()))
    assert real.sent == [b"body", b"<eof>"]


def test_abort_drops_what_is_held() -> None:
    real = run(lambda t: (t.write(b"never"), t.abort()))
    assert real.sent == [] and real.aborted


def test_held_bytes_count_in_the_write_buffer_and_other_calls_pass_through() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.new_event_loop())  # type: ignore[arg-type]
    transport.write(b"12345")
    transport.writelines([b"67", b""])
    assert transport.get_write_buffer_size() == 7 + 7
    assert transport.get_extra_info("peername") == "info:peername"
    assert real.sent == []


@pytest.mark.parametrize("data", [b"", bytearray(b"ab"), memoryview(b"cd")])
def test_any_bytes_like_is_accepted(data: bytes) -> None:
    real = run(lambda t: t.write(data))
    assert real.sent == ([bytes(data)] if data else [])


async def _noop_app(scope: object, receive: object, send: object) -> None:
    return None


def test_uvicorn_loads_the_protocol_satchel_serve_names() -> None:
    from uvicorn.config import Config

    from satchel.config import load_settings
    from satchel.protocol import Limits, SatchelHttpProtocol
    from satchel.worker import uvicorn_config

    settings = load_settings(max_header_bytes=1234, header_timeout=1.5, body_timeout=2, send_timeout=3)
    config = Config(app=_noop_app, http=uvicorn_config(settings).http)
    config.load()
    assert issubclass(config.http_protocol_class, SatchelHttpProtocol)
    assert config.http_protocol_class.limits == Limits(1234, 1.5, 2.0, 3.0)
    tuned = uvicorn_config(load_settings(keepalive_timeout=2.5, max_connections=77))
    assert tuned.timeout_keep_alive == 2.5
    assert tuned.http.limits.max_connections == 77  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["max_header_bytes", "header_timeout", "body_timeout", "send_timeout",
                                  "keepalive_timeout", "max_connections"])
def test_limits_must_be_positive(name: str) -> None:
    from satchel.config import load_settings

    with pytest.raises(ValueError, match=f"{name} must be positive"):
        load_settings(None, **{name: 0})
    assert load_settings(None, **{name: "0.5" if "timeout" in name else "512"}) is not None


def test_workers_lift_the_soft_open_file_limit_to_the_hard_one() -> None:
    import resource

    from satchel.worker import raise_open_file_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
        raise_open_file_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_log_levels_are_uvicorns_names() -> None:
    from satchel.config import load_settings
    from satchel.logs import level_number

    assert level_number(load_settings(None, log_level="trace").log_level) == 5  # below DEBUG: uvicorn's TRACE
    assert level_number(load_settings(None, log_level="WARNING").log_level) == 30
    with pytest.raises(ValueError, match="log_level must be one of"):
        load_settings(None, log_level="verbose")


# --- chunk sizes ----------------------------------------------------------------------------------------
_CHUNKED = (b"1a;name=\"v\"\r\n" + b"x\nffffffffff\r\n\r\nabcdefghij" + b"\r\n"  # data that reads as a size
            + b"3\r\nabc\r\n0\r\nX-Trailer: ffffffffffff\r\n\r\n")


def _fits(body: bytes, cuts: tuple[int, ...], limit: int = 1000) -> bool:
    from satchel.protocol import ChunkSizes

    sizes = ChunkSizes(limit)
    bounds = (0, *cuts, len(body))
    return all(sizes.fit(body, start, end) for start, end in itertools.pairwise(bounds))


def test_chunk_sizes_are_followed_across_any_split_of_the_body() -> None:
    assert len(b"x\nffffffffff\r\n\r\nabcdefghij") == 0x1a
    for cut in range(len(_CHUNKED) + 1):
        assert _fits(_CHUNKED, (cut,))
        for second in range(cut, len(_CHUNKED) + 1, 7):
            assert _fits(_CHUNKED, (cut, second))


def test_a_chunk_over_the_limit_is_refused_wherever_its_size_line_is_split() -> None:
    body = b"3\r\nabc\r\nffffffffffffffff;x=y\r\nhello"
    for cut in range(len(body) + 1):
        assert not _fits(body, (cut,))
    assert _fits(b"3e8\r\n", (), limit=1000)
    assert not _fits(b"3e9\r\n", (), limit=1000)
