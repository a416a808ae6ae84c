"""The environment script refuses clearly where it cannot work."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "src" / "freshbin" / "data" / "testenv.sh"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to switch to nobody")
def test_not_root_prints_what_to_install_and_exits_2():
    proc = subprocess.run(["runuser", "-u", "nobody", "--", "bash", "-s", "up"], input=SCRIPT.read_text(),
                          capture_output=True, text=True, cwd="/")
    assert proc.returncode == 2
    assert "must run as root" in proc.stderr and "docker-buildx" in proc.stderr and "docker-registry" in proc.stderr


def test_unknown_action_is_usage_exit_2():
    proc = subprocess.run(["bash", str(SCRIPT), "sideways"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage:" in proc.stderr


@pytest.mark.parametrize("script", sorted(SCRIPT.parent.glob("*.sh")), ids=lambda p: p.name)
def test_no_mirror_host_is_written_in_the_scripts(script):
    text = script.read_text()
    assert "http://" not in text.replace("http://$REGISTRY_ADDR", "")
    assert "debian.org" not in text


def test_cross_image_without_the_containerd_store_refuses_a_classic_engine_26():
    proc = subprocess.run(["bash", str(SCRIPT), "cross-image", "--containerd-store"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--containerd-store needs --engine 26" in proc.stderr
