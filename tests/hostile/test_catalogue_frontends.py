"""The runner of the PAR, Swift and console catalogues (``catalogue_par.py``, ``catalogue_swift.py``,
``catalogue_console.py``): each row's exact answer, no state change, its audit events, a live server
(:func:`tests.hostile.frontends.check`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hostile import catalogue_par, catalogue_swift
from tests.hostile.frontends import Row, World, check


@pytest.fixture(scope="module")
def baseline(fe_world: World) -> dict[str, Any]:
    return fe_world.snapshot()


@pytest.fixture(scope="module")
def state(fe_world: World, baseline: dict[str, Any]) -> dict[str, Any]:
    return {"snapshot": baseline, "events": fe_world.audit_count()}


@pytest.mark.parametrize("row", catalogue_par.ROWS, ids=[r.id for r in catalogue_par.ROWS])
def test_par(fe_world: World, baseline: dict[str, Any], state: dict[str, Any], row: Row) -> None:
    check(fe_world, state, baseline, row)


@pytest.mark.parametrize("row", catalogue_swift.ROWS, ids=[r.id for r in catalogue_swift.ROWS])
def test_swift(fe_world: World, baseline: dict[str, Any], state: dict[str, Any], row: Row) -> None:
    check(fe_world, state, baseline, row)
