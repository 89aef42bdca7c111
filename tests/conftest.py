"""Shared by every test tier; fixtures live beside the tier that uses them (tests/clients/conftest.py)."""

from tests.seaweedfs import seaweedfs  # noqa: F401 - the real S3 upstream (SeaweedFS), one per session
