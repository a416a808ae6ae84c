"""doctor: static checks of a Dockerfile (plus the workspace and .dockerignore) for stale-binary hazards."""

from .model import Finding, SEVERITIES
from .run import check, fix

__all__ = ["Finding", "SEVERITIES", "check", "fix"]
