"""Metric files are backed by disk blocks before they are touched (satchel/metricfiles.py): a sparse
memory-mapped file is what turns a full disk into SIGBUS."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import mmap_dict

from satchel import metricfiles

MmapedDict: Any = mmap_dict.MmapedDict  # untyped library class


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def test_a_new_metric_file_is_reserved_whole_and_grows_reserved(tmp_path: Path) -> None:
    metricfiles.install()
    path = tmp_path / "counter_1.db"
    values = MmapedDict(str(path))
    try:
        assert os.path.getsize(path) == metricfiles.PREALLOCATED
        assert allocated(path) >= metricfiles.PREALLOCATED  # not sparse
        for i in range(4000):  # ~100 bytes each: past the first size, so the file doubles at least once
            values.write_value(f'{{"series": {i}, "label": "{"x" * 60}"}}', float(i), 0.0)
        size = os.path.getsize(path)
        assert size > metricfiles.PREALLOCATED
        assert allocated(path) >= size
        assert values.read_value(f'{{"series": 3999, "label": "{"x" * 60}"}}') == (3999.0, 0.0)
    finally:
        values.close()
    stored = {key: value for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(str(path))}
    assert len(stored) == 4000 and stored[f'{{"series": 7, "label": "{"x" * 60}"}}'] == 7.0
