"""The task collection shared by `invoke` (via the repo's tasks.py) and the `freshbin` CLI."""

from invoke import Collection

from .. import config
from . import env
from .deploy import deploy
from .detect import detect
from .doctor import doctor
from .verify import verify

ns = Collection(detect, deploy, verify, doctor)
ns.add_collection(env.ns)
ns.configure({"freshbin": config.DEFAULTS})
