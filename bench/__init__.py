"""Satchel's benchmark harness: ``make bench`` (``python bench/run.py``); see bench/README.md."""
