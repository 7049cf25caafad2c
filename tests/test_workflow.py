"""The shipped GitHub files: the composite action (action.yml), the one-group workflow
(.github/workflows/formsync.yml, the example the docs show) and the many-groups matrix workflow
(docs/examples/formsync-groups.yml).

Offline checks with the real tools (check-jsonschema's bundled `vendor.github-actions` and
`vendor.github-workflows` schemas, zizmor with every audit persona), each shown not to be vacuous
by a planted mistake, and structural checks of what matters for an unattended job. The action's
shell steps are run in tests/test_action.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / ".github" / "workflows" / "formsync.yml"
GROUPS_WORKFLOW = ROOT / "docs" / "examples" / "formsync-groups.yml"
TOOLS = Path(sys.executable).parent

# The pins the files must use (full commit SHAs of these release tags).
PINS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    # The examples' placeholder: the user puts formsync's release commit here.
    "OWNER/formsync": ("0" * 40, "v0.1.0"),
}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SCHEMAS = {ACTION: "vendor.github-actions", WORKFLOW: "vendor.github-workflows",
           GROUPS_WORKFLOW: "vendor.github-workflows"}


def _load(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _tool(name: str) -> str:
    path = TOOLS / name
    if not path.exists():
        found = shutil.which(name)
        assert found, f"{name} is not installed; run: pip install -e '.[test]'"
        return found
    return str(path)


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """No GitHub token (zizmor would use it for online audits), offline forced, no colours."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN", "GH_HOST"}}
    env.update(ZIZMOR_OFFLINE="true", NO_COLOR="1", XDG_CACHE_HOME=str(tmp_path / "cache"))
    return env


def _zizmor(path: Path, tmp_path: Path) -> tuple[int, list[dict[str, Any]], str]:
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-config", "--persona", "auditor", "--format", "json",
         "--no-progress", "--cache-dir", str(tmp_path / "zizmor-cache"), str(path)],
        capture_output=True, text=True, env=_offline_env(tmp_path), timeout=60, check=False)
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return result.returncode, findings, result.stderr


def _check_schema(path: Path, schema: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, env=_offline_env(tmp_path), timeout=60, check=False)


def _planted(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    # The file's name matters to zizmor (action.yml, or a workflow under .github/workflows).
    target = tmp_path / "planted" / source.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


# ---------------------------------------------------------------- the real tools, offline


@pytest.mark.parametrize("path", list(SCHEMAS), ids=lambda p: p.name)
def test_matches_the_github_schema(tmp_path: Path, path: Path) -> None:
    result = _check_schema(path, SCHEMAS[path], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize(("path", "old", "new"), [
    (ACTION, "using: composite", "using: compost"),
    (ACTION, "shell: bash", "shel: bash"),
    (WORKFLOW, "runs-on:", "runs_on:"),
    (GROUPS_WORKFLOW, "needs: groups", "need: groups"),
], ids=["action-using", "action-shell", "workflow", "groups"])
def test_schema_check_rejects_a_broken_file(tmp_path: Path, path: Path, old: str,
                                            new: str) -> None:
    result = _check_schema(_planted(tmp_path, path, old, new), SCHEMAS[path], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize("path", list(SCHEMAS), ids=lambda p: p.name)
def test_zizmor_finds_nothing_even_as_auditor(tmp_path: Path, path: Path) -> None:
    code, findings, stderr = _zizmor(path, tmp_path)
    assert [f"{f['ident']}: {f['desc']}" for f in findings] == []
    assert code == 0, stderr


@pytest.mark.parametrize(("path", "audit", "old", "new"), [
    (ACTION, "unpinned-uses",
     "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0",
     "actions/setup-python@v5"),
    (ACTION, "template-injection", 'args=(--config "$INPUT_CONFIG" sync)\n',
     'args=(--config "${{ inputs.config }}" sync)\n'),
    (WORKFLOW, "artipacked", "persist-credentials: false", "fetch-depth: 1"),
    (WORKFLOW, "excessive-permissions", "permissions: {}", "permissions: write-all"),
    (GROUPS_WORKFLOW, "unpinned-uses", "OWNER/formsync@" + "0" * 40 + " # v0.1.0",
     "OWNER/formsync@v0.1.0"),
], ids=["action-unpinned", "action-injection", "workflow-artipacked", "workflow-permissions",
        "groups-unpinned"])
def test_zizmor_really_audits_offline(tmp_path: Path, path: Path, audit: str, old: str,
                                      new: str) -> None:
    """Each mistake planted in a copy is caught: the clean result above is not vacuous."""
    code, findings, stderr = _zizmor(_planted(tmp_path, path, old, new), tmp_path)
    assert audit in {f["ident"] for f in findings}, stderr
    assert code != 0


# ---------------------------------------------------------------- the action


def test_action_inputs_and_outputs() -> None:
    action = _load(ACTION)
    assert {"config", "dry-run", "now", "commit", "python-version"} <= set(action["inputs"])
    assert action["inputs"]["config"]["default"] == "formsync.toml"
    assert action["inputs"]["dry-run"]["default"] == "false"
    assert action["inputs"]["keepalive"]["default"] == "false"  # opt-in
    assert {"changed", "problems", "exit-code"} <= set(action["outputs"])
    assert action["runs"]["using"] == "composite"


def test_action_never_puts_an_expression_inside_a_run_block() -> None:
    runs = [step for step in _load(ACTION)["runs"]["steps"] if "run" in step]
    assert len(runs) >= 5
    for step in runs:
        assert "${{" not in step["run"], f"{step['name']}: pass values through env:"
        assert step["shell"] == "bash"


def test_action_installs_itself_and_sees_no_secret() -> None:
    steps = _load(ACTION)["runs"]["steps"]
    install = next(s for s in steps if s.get("id") == "install")
    assert '"$GITHUB_ACTION_PATH"' in install["run"]
    assert "secrets." not in json.dumps(_load(ACTION))  # credentials come by the environment
    for step in steps:
        for value in step.get("env", {}).values():
            if "inputs.token" in value:
                assert step.get("id") == "commit" or "keep" in step["name"].lower()


# ---------------------------------------------------------------- the example workflows


def _uses(data: dict[str, Any]) -> list[str]:
    return [step["uses"] for job in data["jobs"].values() for step in job["steps"]
            if "uses" in step]


@pytest.mark.parametrize("path", [ACTION, WORKFLOW, GROUPS_WORKFLOW], ids=lambda p: p.name)
def test_every_action_pinned_to_a_commit_with_its_version(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if re.match(r"\s*(-\s+)?uses:", line)]
    assert lines
    for line in lines:
        match = re.fullmatch(
            r"\s*(?:-\s+)?uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*", line)
        assert match, f"not pinned to a full SHA with a '# vX.Y.Z' comment: {line.strip()}"
        action, sha, version = match.groups()
        assert PINS[action] == (sha, version), line


def test_the_one_group_workflow_is_a_dozen_lines() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    workflow = _load(WORKFLOW)
    meaningful = [line for line in text.splitlines() if line.strip()
                  and not line.lstrip().startswith("#")]
    assert len(meaningful) <= 26
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    for entry in workflow["on"]["schedule"]:
        minute = entry["cron"].split()[0]
        assert minute.isdigit() and 1 <= int(minute) <= 59
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "formsync", "cancel-in-progress": False}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    assert job["timeout-minutes"] <= 30
    checkout, formsync = job["steps"]
    assert checkout["with"] == {"persist-credentials": False}
    assert formsync["uses"].startswith("OWNER/formsync@")
    assert formsync["env"] == {name: f"${{{{ secrets.{name} }}}}" for name in
                               ("FORMSYNC_GOOGLE_CREDENTIALS", "FORMSYNC_SMTP_PASSWORD")}


def test_the_groups_workflow_runs_one_job_per_group_within_the_quota() -> None:
    workflow = _load(GROUPS_WORKFLOW)
    assert workflow["permissions"] == {}
    groups, sync = workflow["jobs"]["groups"], workflow["jobs"]["sync"]
    (listing,) = [s for s in groups["steps"] if "formsync@" in s.get("uses", "")]
    assert listing["with"] == {"list-groups": "groups/*/formsync.toml"}
    assert groups["outputs"] == {"matrix": "${{ steps.list.outputs.matrix }}",
                                 "max-parallel": "${{ steps.list.outputs.max-parallel }}"}
    assert groups["permissions"] == {"contents": "read"}
    assert sync["needs"] == "groups"
    assert sync["strategy"] == {
        "fail-fast": False,
        "max-parallel": "${{ fromJSON(needs.groups.outputs.max-parallel) }}",
        "matrix": "${{ fromJSON(needs.groups.outputs.matrix) }}"}
    assert sync["concurrency"] == {"group": "formsync-${{ matrix.group }}",
                                   "cancel-in-progress": False}
    assert sync["permissions"] == {"contents": "write"}
    (formsync,) = [s for s in sync["steps"] if "formsync@" in s.get("uses", "")]
    assert formsync["with"]["config"] == "${{ matrix.config }}"
    for data in (workflow, _load(WORKFLOW)):
        for job in data["jobs"].values():
            for step in job["steps"]:
                for value in step.get("env", {}).values():
                    if "secrets." in value:
                        assert "formsync@" in step.get("uses", "")
                assert "secrets." not in json.dumps(step.get("with", {}))
    assert all(u.split("@")[0] in PINS for u in _uses(workflow))


# ---------------------------------------------------------------- the docs show these files


def _yaml_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [textwrap.dedent(block) for block in
            re.findall(r"^ *```yaml\n(.*?)^ *```", text, flags=re.MULTILINE | re.DOTALL)]


def test_the_docs_show_the_shipped_workflow(tmp_path: Path) -> None:
    shipped = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines()
               if not line.startswith("#")]
    (first, *_) = _yaml_blocks(ROOT / "docs" / "scheduling.md")
    assert first.splitlines() == shipped


def test_the_readme_workflow_is_a_valid_dozen_line_workflow(tmp_path: Path) -> None:
    (block,) = [b for b in _yaml_blocks(ROOT / "README.md") if "formsync@" in b]
    assert len(block.splitlines()) <= 21
    path = tmp_path / "readme-workflow.yml"
    path.write_text(block.replace("<release commit SHA>", "0" * 40), encoding="utf-8")
    result = _check_schema(path, "vendor.github-workflows", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
