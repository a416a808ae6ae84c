"""The `freshbin` console script: invoke's Program over the same collection as tasks.py."""

from invoke import Program

from . import __version__
from .tasks import ns

program = Program(namespace=ns, version=__version__, name="freshbin", binary="freshbin")
