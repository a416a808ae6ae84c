"""doctor: static checks of a Dockerfile (with its context's manifests and ignore file) for
stale-binary hazards; one module per rule under `rules/`, the registry in `rules/__init__.py`."""

from .fix import fix
from .rule import SEVERITIES, Finding, Rule
from .rules import BY_CODE, RULES
from .run import Report, check, diagnose

__all__ = ["BY_CODE", "RULES", "SEVERITIES", "Finding", "Report", "Rule", "check", "diagnose", "fix"]
