"""Settings as an operator sees them: the README's table is the one generated from ``Settings``, every
setting is a ``satchel serve`` flag, ``satchel config show`` names each value's source and masks secrets,
and an invalid value fails naming the option and what it accepts."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.cli.main import cli
from satchel.config import Settings, load_settings, markdown_table, setting_docs

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_table_is_generated_from_settings() -> None:
    text = README.read_text()
    found = re.search(r"<!-- settings table:[^\n]*-->\n(.*?)\n<!-- end of settings table -->", text, re.S)
    assert found is not None, "the README lost its settings table markers"
    assert found.group(1) == markdown_table(), "README out of date: paste the output of `satchel config table`"


def test_every_setting_is_documented_and_a_serve_flag() -> None:
    docs = setting_docs()
    assert [f.name for f in fields(Settings) if not docs.get(f.name)] == []
    help_text = CliRunner().invoke(cli, ["serve", "--help"], prog_name="satchel").output
    for f in fields(Settings):
        assert f"--{f.name.replace('_', '-')}" in help_text, f.name


def test_show_names_sources_and_masks_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "s.toml"
    config.write_text('port = 9123\nmetrics_token = "very-secret-token"\n')
    for name in [n for n in list(__import__("os").environ) if n.startswith("SATCHEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SATCHEL_LOG_FORMAT", "json")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "config", "show", "--json",
                                      "--config", str(config)], prog_name="satchel")
    assert result.exit_code == 0, result.output
    rows = {row["setting"]: row for row in json.loads(result.output)}
    assert rows["port"] == {"setting": "port", "value": "9123", "source": f"file {config}"}
    assert rows["log_format"]["source"] == "env SATCHEL_LOG_FORMAT"
    assert rows["data_dir"]["source"] == "flag"
    assert rows["region"] == {"setting": "region", "value": "us-east-1", "source": "default"}
    assert rows["metrics_token"]["value"] == "********" and "very-secret-token" not in result.output


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SATCHEL_PORT", "abc", "port must be a whole number, not 'abc' (flag --port, variable SATCHEL_PORT"),
    ("SATCHEL_LOG_FORMAT", "xml", "log_format must be one of text, json, not 'xml'"),
    ("SATCHEL_ACCESS_LOG", "maybe", "access_log must be true or false, not 'maybe'"),
    ("SATCHEL_WORKERS", "0", "workers must be positive, not 0"),
    ("SATCHEL_TLS_CERT", "/etc/cert.pem", "tls_key must be set together with tls_cert"),
    ("SATCHEL_AUDIT_RETENTION_DAYS", "-1", "audit_retention_days must be 0 or more"),
])
def test_invalid_settings_name_the_option(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                          message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as caught:
        load_settings()
    assert message in str(caught.value)
    result = CliRunner().invoke(cli, ["config", "show"], prog_name="satchel")
    assert result.exit_code == 1 and message in result.output


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text("prot = 9000\n")
    with pytest.raises(ValueError, match="unknown settings: prot"):
        load_settings(config)
