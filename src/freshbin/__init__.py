"""freshbin: make sure a Rust service deployed with docker buildx runs the code you committed."""

import os as _os

# GitPython refuses to import when no git executable is found; let it import, so `--help` works
# and a missing git becomes one clear error where git is first needed (checkout.require_git).
_os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

__version__ = "0.2.0"
