"""requirements.lock against pyproject.toml and the Makefile: what `make test` on a fresh clone installs.

The lock is what keeps a release upstream from breaking `make test` (it once did: an unpinned botocore
moved). These checks are offline and cheap; `make lock` (needs PyPI) regenerates the lock itself.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[3]
LOCK = REPO / "requirements.lock"


def pins() -> dict[str, list[tuple[Version, Requirement]]]:
    """Every pinned line of the lock, by canonical name (a package may have one pin per marker)."""
    found: dict[str, list[tuple[Version, Requirement]]] = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"not an exact pin: {line}"
        found.setdefault(canonicalize_name(requirement.name), []).append((Version(specifier.version), requirement))
    return found


def wanted() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    lines = [*project["project"]["dependencies"], *extras["test"], *extras["bench"],
             *project["build-system"]["requires"]]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("requirement", wanted(), ids=str)
def test_every_requirement_is_pinned_within_its_range(requirement: Requirement) -> None:
    locked = pins().get(canonicalize_name(requirement.name))
    assert locked, f"{requirement.name} is not in requirements.lock: run make lock"
    for version, line in locked:
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {line}, outside pyproject's {requirement}: run make lock")


def test_the_lock_holds_the_runtime_for_this_platform_once() -> None:
    for name, entries in pins().items():
        chosen = [line for _, line in entries if line.marker is None or line.marker.evaluate()]
        assert len(chosen) <= 1, f"{name} is pinned twice for this platform: {chosen}"


def test_make_installs_from_the_lock_and_rebuilds_when_it_changes() -> None:
    makefile = (REPO / "Makefile").read_text()
    stamp_rule = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.M)
    assert stamp_rule is not None and "$(LOCK)" in stamp_rule.group(1)
    assert "LOCK := requirements.lock" in makefile
    assert "pip install --quiet --no-deps -r $(LOCK)" in makefile
    # Satchel itself on top, without letting pip resolve (and so move) anything the lock pinned.
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert not re.search(r"pip install[^\n]*-e '?\.\[", makefile.split("deps-latest:")[0]), \
        "make serve/test must not install unpinned extras"
