"""The short fuzz tier: every harness of :mod:`tests.fuzz.harnesses`, derandomized (the same examples on
every run, so a failure reproduces), a few dozen examples each; the whole tier stays under 30 s on one
core. ``make fuzz`` runs the same harnesses for longer with fresh randomness."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import links
from tests.fuzz.harnesses import HARNESSES as S3_HARNESSES
from tests.fuzz.harnesses import Harness

HARNESSES = (*S3_HARNESSES, *links.HARNESSES)


@pytest.mark.parametrize("harness", HARNESSES, ids=[h.name for h in HARNESSES])
def test_fuzz(harness: Harness) -> None:
    run = settings(max_examples=harness.examples, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))(given(harness.strategy)(harness.check))
    run()
