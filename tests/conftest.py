"""Shared by every test tier; fixtures live beside the tier that uses them (tests/clients/conftest.py)."""
