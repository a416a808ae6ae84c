"""The task collection shared by `invoke` (via the repo's tasks.py) and the `freshbin` CLI."""

from invoke import Collection

from .. import config
from . import bench, env, skill
from .configtask import show_config
from .demo import demo
from .deploy import deploy
from .detect import detect
from .doctor import doctor
from .history import history
from .verify import verify

ns = Collection(detect, deploy, verify, history, doctor, demo, show_config)
ns.add_collection(env.ns)
ns.add_collection(skill.ns)
ns.add_collection(bench.ns)
ns.configure({"freshbin": config.DEFAULTS})
