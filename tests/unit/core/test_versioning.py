"""core/versioning.py: version ids, the choice a write makes from the bucket's state and its one retry when
PutBucketVersioning lands between the choice and the commit."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.core import versioning
from satchel.core.errors import InvalidArgument, VersioningChanged
from satchel.core.models import ObjectRecord


def _node(*states: str) -> Any:
    """A node whose store reports ``states`` in turn (the last one from then on)."""
    answers = list(states)

    def state(_bucket: str) -> str:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async def read(fn: Any, *args: Any, **kwargs: Any) -> Any:  # Node.read on SQLite: inline
        return fn(*args, **kwargs)

    return SimpleNamespace(store=SimpleNamespace(bucket_versioning=state), read=read)


RECORD = ObjectRecord("b", "k", 0, "e", 1.0, ())


def test_ids_are_hex_and_checked() -> None:
    made = {versioning.new_version_id() for _ in range(50)}
    assert len(made) == 50 and all(len(v) == 32 and int(v, 16) >= 0 for v in made)
    for good in ("null", "A" * 32, next(iter(made))):
        assert versioning.check_version_id(good) == good
    for bad in ("", "NULL", "a" * 31, "a" * 33, "../" + "a" * 29, "a b" + "c" * 29):
        with pytest.raises(InvalidArgument):
            versioning.check_version_id(bad)


@pytest.mark.parametrize(("state", "shape"), [("", None), ("Suspended", "null"), ("Enabled", "id")])
def test_the_state_chooses_the_id(state: str, shape: str | None) -> None:
    chosen = versioning.version_for(_node(state), "b")
    assert chosen == shape if shape != "id" else chosen is not None and len(chosen) == 32


def test_a_write_chooses_again_once_when_the_state_changed() -> None:
    seen: list[str | None] = []

    async def write(record: ObjectRecord) -> list[str]:
        seen.append(record.version_id)
        if len(seen) == 1:
            raise VersioningChanged()
        return ["dead"]

    stamped, dead = asyncio.run(versioning.write_version(_node("", "Enabled"), RECORD, write))
    assert seen[0] is None and seen[1] is not None and stamped.version_id == seen[1] and dead == ["dead"]


def test_a_write_gives_up_after_the_second_change() -> None:
    async def write(record: ObjectRecord) -> list[str]:
        raise VersioningChanged()

    with pytest.raises(VersioningChanged):
        asyncio.run(versioning.write_version(_node("", "Enabled", "Suspended"), RECORD, write))
