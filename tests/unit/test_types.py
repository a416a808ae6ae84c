"""Types are part of the test run: mypy --strict over src/freshbin (config in pyproject.toml),
and the enums that replaced strings serialise exactly as the strings did."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from freshbin.detect import BaseFrom, ChangeKind
from freshbin.doctor.rule import SEVERITIES, Severity
from freshbin.engines import ImageStore
from freshbin.gitio import STATUS_NAMES, ChangeStatus
from freshbin.layers import EntryKind

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_passes():
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_enums_are_their_json_strings():
    for enum in (ChangeKind, ChangeStatus, BaseFrom, Severity, ImageStore, EntryKind):
        for member in enum:
            assert json.dumps({"k": member}) == json.dumps({"k": member.value})
            assert f"{member}" == str(member) == member.value
    assert json.dumps([ChangeKind.BUILD_DEFINITION, ChangeStatus.TYPE_CHANGED]) == '["build-definition", "type-changed"]'
    assert SEVERITIES == ("error", "warning", "info")
    assert set(STATUS_NAMES.values()) == set(ChangeStatus)
