"""Expose the freshbin kit to `invoke` in this repository (`invoke --list`)."""

from freshbin.tasks import ns  # noqa: F401
