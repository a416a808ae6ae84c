"""skill.md: valid agent-skills frontmatter, the required sections, evidence, and skill.install."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from freshbin import skill
from freshbin.errors import UsageError

from ..conftest import FRESHBIN

ROOT = Path(__file__).resolve().parents[2]
SKILL = ROOT / "skill.md"
ALLOWED_TOP_LEVEL = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
SECTIONS = ["Problem", "Trigger conditions", "Diagnosis", "Root causes", "Fixes", "Verification", "Notes"]


def split_frontmatter(text: str) -> tuple[dict, str]:
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.S)
    if not match:
        raise ValueError("no YAML frontmatter between --- lines at the top")
    data = yaml.safe_load(match.group(1))
    if not isinstance(data, dict):
        raise ValueError("frontmatter is not a mapping")
    return data, match.group(2)


def frontmatter_problems(data: dict) -> list[str]:
    """The agent-skills format's rules for SKILL.md frontmatter (agentskills.io specification)."""
    problems = [f"unknown top-level field {key!r}" for key in sorted(set(data) - ALLOWED_TOP_LEVEL)]
    name, description = data.get("name"), data.get("description")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) or len(name) > 64:
        problems.append("name must be 1-64 lowercase letters, digits and single hyphens, not at either end")
    if not isinstance(description, str) or not 1 <= len(description) <= 1024:
        problems.append("description must be 1-1024 characters")
    elif "<" in description or ">" in description:
        problems.append("description must not contain < or >")
    compatibility = data.get("compatibility")
    if compatibility is not None and (not isinstance(compatibility, str) or not 1 <= len(compatibility) <= 500):
        problems.append("compatibility must be 1-500 characters")
    metadata = data.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        problems.append("metadata must map strings to strings")
    tools = data.get("allowed-tools")
    if tools is not None and not isinstance(tools, str):
        problems.append("allowed-tools must be a space-delimited string")
    return problems


def test_skill_frontmatter_follows_the_format():
    data, body = split_frontmatter(SKILL.read_text())
    assert frontmatter_problems(data) == []
    assert data["name"] == skill.NAME == "docker-buildx-stale-rust-binary"
    assert {"author", "version", "date"} <= set(data["metadata"])
    assert "use when" in data["description"].lower()  # says *when*: the symptoms
    assert len(body.splitlines()) < 500


@pytest.mark.parametrize("bad, problem", [
    ({"name": "Stale_Binary", "description": "x"}, "name must be"),
    ({"name": "-stale", "description": "x"}, "name must be"),
    ({"name": "a--b", "description": "x"}, "name must be"),
    ({"name": "a" * 65, "description": "x"}, "name must be"),
    ({"name": "ok", "description": "d" * 1025}, "description must be"),
    ({"name": "ok", "description": "use <when>"}, "must not contain"),
    ({"name": "ok", "description": "x", "author": "me"}, "unknown top-level field 'author'"),
    ({"name": "ok", "description": "x", "metadata": {"version": 2}}, "metadata must map"),
    ({"name": "ok", "description": "x", "compatibility": "c" * 501}, "compatibility must be"),
])
def test_the_frontmatter_validator_rejects_what_the_format_forbids(bad, problem):
    assert any(problem in p for p in frontmatter_problems(bad))


def test_skill_has_the_sections_and_every_root_cause_names_its_e2e_test():
    _, body = split_frontmatter(SKILL.read_text())
    headings = re.findall(r"^## (.+)$", body, re.M)
    assert headings == SECTIONS
    causes = body.split("## Root causes", 1)[1].split("## Fixes", 1)[0]
    items = re.split(r"^\d+\. ", causes, flags=re.M)[1:]
    assert len(items) >= 5
    for item in items:
        assert re.search(r"tests/e2e/\w+\.py::test_\w+", item), item[:80]
    for command in ("invoke detect", "invoke doctor", "invoke verify", "docker buildx build", "imagetools inspect"):
        assert command in body


def test_markdown_links_point_at_existing_files():
    for doc in [ROOT / "README.md", SKILL, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_the_packaged_copy_is_the_top_level_skill():
    assert skill.text() == SKILL.read_text()


def test_install_creates_keeps_refuses_and_forces(tmp_path):
    first = skill.install(tmp_path)
    target = tmp_path / skill.NAME / "SKILL.md"
    assert first.action == "created" and target.read_text() == SKILL.read_text()
    assert skill.install(tmp_path).action == "unchanged"
    target.write_text(target.read_text() + "local edit\n")
    with pytest.raises(UsageError, match="--force"):
        skill.install(tmp_path)
    assert target.read_text().endswith("local edit\n")
    assert skill.install(tmp_path, force=True).action == "updated"
    assert target.read_text() == SKILL.read_text()


def test_install_cli_defaults_to_claude_skills(tmp_path):
    proc = subprocess.run([*FRESHBIN, "skill.install"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and (tmp_path / ".claude" / "skills" / skill.NAME / "SKILL.md").is_file()
    (tmp_path / ".claude" / "skills" / skill.NAME / "SKILL.md").write_text("mine\n")
    refused = subprocess.run([*FRESHBIN, "skill.install"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stderr.startswith("freshbin: error:") and "--force" in refused.stderr
