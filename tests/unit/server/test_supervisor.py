"""The supervisor's own decisions, with real child processes standing in for workers."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest

from satchel import supervisor


def test_workers_that_keep_dying_at_start_stop_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    code = supervisor.main(["--host", "127.0.0.1", "--port", "0", "--workers", "2", "--",
                            sys.executable, "-c", "raise SystemExit(3)"])
    assert code == 1
    err = capsys.readouterr().err
    assert "exited with code 3" in err and "workers keep dying at start; stopping" in err
    assert {sig: signal.getsignal(sig) for sig in before} == before  # the caller's handlers are back


def test_each_worker_gets_the_listening_socket(tmp_path: Path) -> None:
    """A worker finds the inherited socket at the fd named by --fd, listening where the supervisor bound."""
    report = tmp_path / "fd.txt"
    script = (
        "import socket, sys; fd = int(sys.argv[-1]); s = socket.socket(fileno=fd); "
        f"open({str(report)!r}, 'w').write(repr((sys.argv[-2], s.family == socket.AF_INET, s.getsockname()[0]))); "
        "raise SystemExit(3)"
    )
    listener = supervisor.listen("127.0.0.1", 0)
    sup = supervisor.Supervisor(listener, [sys.executable, "-c", script], workers=1)
    assert sup.run() == 1  # the stand-in exits at once: a crash loop, after it wrote its report
    assert report.read_text() == repr(("--fd", True, "127.0.0.1"))
    listener.close()


def test_a_taken_port_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code = supervisor.main(["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--", sys.executable])
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--host", "h", "--port", "1", "--workers", "0", "--", "x"],
                                  ["--host", "h", "--port", "1", "--workers", "1"]])
def test_bad_command_lines_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        supervisor.main(argv)
    assert exc.value.code == 2
