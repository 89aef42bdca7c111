"""``satchel admin migrate`` brings an older metadata file to the current schema and says from which
version to which; on a current one it applies nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.cli.main import cli
from satchel.meta.schema import BOOTSTRAP, MIGRATIONS, statements


def run(*args: str) -> dict[str, int]:
    result = CliRunner().invoke(cli, list(args), prog_name="satchel")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_migrate_an_older_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SATCHEL_SETTINGS_JSON", raising=False)
    data_dir = str(tmp_path / "d")
    run("admin", "init", "--data-dir", data_dir, "--json")
    assert run("admin", "migrate", "--data-dir", data_dir, "--json") == {
        "before": len(MIGRATIONS), "after": len(MIGRATIONS), "applied": 0}

    meta = tmp_path / "d" / "meta.sqlite3"
    meta.unlink()
    old = sqlite3.connect(meta)
    old.execute(BOOTSTRAP)
    for script in MIGRATIONS[:2]:
        for statement in statements(script, "sqlite"):
            old.execute(statement)
    old.execute("INSERT INTO schema_version (version) VALUES (2)")
    old.commit()
    old.close()
    assert run("admin", "migrate", "--data-dir", data_dir, "--json") == {
        "before": 2, "after": len(MIGRATIONS), "applied": len(MIGRATIONS) - 2}
    check = sqlite3.connect(meta)
    try:
        assert check.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        check.close()
