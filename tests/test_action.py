"""The composite action's shell steps (action.yml), run for real the way the runner runs them:
`bash -e`, each step's `if:` evaluated, each step's outputs collected from its own $GITHUB_OUTPUT,
a fake `formsync` for the sync (the real one for `commit-paths` and `groups`), and local git
repositories behind the push URL. Two clones of one bare repository race to push."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
REAL_FORMSYNC = Path(sys.executable).parent / "formsync"
TOKEN = "ghs_faketoken0123456789"
REPOSITORY = "study-group/calendar"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONTEXT_NAME = re.compile(r"\b(?:inputs|steps|github)\.[\w.-]+")

FAKE_FORMSYNC = """#!/bin/sh
# A stand-in for `formsync sync`: records its arguments, edits the files it is told to, writes the
# step outputs the real one writes, exits as told. Other commands go to the real formsync.
if [ -n "$FAKE_REAL" ]; then exec "$REAL_FORMSYNC" "$@"; fi
case " $* " in
  *" sync "*) ;;
  *) exec "$REAL_FORMSYNC" "$@" ;;
esac
printf '%s\\n' "$@" > "$FAKE_ARGS"
for f in $FAKE_WRITE; do mkdir -p "$(dirname "$f")"; echo "changed by $FAKE_WHO" >> "$f"; done
printf 'changed=%s\\nproblems=%s\\n' "${FAKE_CHANGED:-false}" "${FAKE_PROBLEMS:-0}" \\
  >> "$GITHUB_OUTPUT"
echo "fake sync done"
exit "${FAKE_EXIT:-0}"
"""
# `python -m venv DIR` makes DIR/bin with the fake formsync; pip records what it installs.
FAKE_PYTHON = """#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"; cp "$FAKE_BIN/python" "$3/bin/python"
  cp "$FAKE_BIN/fake-formsync" "$3/bin/formsync"
  exit 0
fi
printf '%s\\n' "$@" > "$FAKE_PIP_ARGS"
"""
FAKE_GH = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_GH_ARGS"
[ -n "$GH_TOKEN" ] || exit 1
"""


def _evaluate(value: str, context: dict[str, str]) -> str:
    return EXPRESSION.sub(lambda m: context.get(m.group(1), ""), value)


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True, timeout=30).stdout


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data = YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


class ActionRun:
    """One checkout of the group's repository (a clone of a shared bare remote) running the
    action's steps in order."""

    def __init__(self, tmp: Path, action: dict[str, Any], remote: Path, name: str) -> None:
        self.tmp = tmp / name
        self.tmp.mkdir()
        self.action = action
        self.remote = remote
        self.work = self.tmp / "work"
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir()
        for file, body in (("fake-formsync", FAKE_FORMSYNC), ("python", FAKE_PYTHON),
                           ("gh", FAKE_GH)):
            (bin_dir / file).write_text(body, encoding="utf-8")
            (bin_dir / file).chmod(0o755)
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.tmp), "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
            "GIT_ALLOW_PROTOCOL": "file", "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{remote}.insteadOf",
            "GIT_CONFIG_VALUE_0": f"https://x-access-token:{TOKEN}@github.example/{REPOSITORY}.git",
            "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_REF_NAME": "main", "RUNNER_TEMP": str(self.tmp / "runner-temp"),
            "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_STEP_SUMMARY": str(self.tmp / "summary"),
            "GITHUB_WORKFLOW_REF": f"{REPOSITORY}/.github/workflows/formsync.yml@refs/heads/main",
            "REAL_FORMSYNC": str(REAL_FORMSYNC), "FAKE_BIN": str(bin_dir), "FAKE_WHO": name,
            "FAKE_ARGS": str(self.tmp / "formsync-args"),
            "FAKE_PIP_ARGS": str(self.tmp / "pip-args"), "FAKE_GH_ARGS": str(self.tmp / "gh-args"),
        }
        (self.tmp / "runner-temp").mkdir()
        _git(self.tmp, "clone", "--quiet", str(remote), str(self.work), env=self.env)
        self.outputs: dict[str, dict[str, str]] = {}
        self.results: dict[str, subprocess.CompletedProcess[str]] = {}

    def _context(self, inputs: dict[str, str]) -> dict[str, str]:
        context = {f"inputs.{name}": str(spec.get("default", ""))
                   for name, spec in self.action["inputs"].items()}
        context["inputs.token"] = TOKEN
        context.update({f"inputs.{k}": v for k, v in inputs.items()})
        for step_id, outputs in self.outputs.items():
            context.update({f"steps.{step_id}.outputs.{k}": v for k, v in outputs.items()})
        return context

    def _condition(self, condition: str, context: dict[str, str]) -> bool:
        expression = EXPRESSION.sub(lambda m: m.group(1), condition)
        python = CONTEXT_NAME.sub(lambda m: repr(context.get(m.group(0), "")), expression)
        python = python.replace("&&", " and ").replace("||", " or ")
        python = python.replace("!cancelled()", "True").replace("!=", "__NE__")
        python = python.replace("!", " not ").replace("__NE__", "!=")
        return bool(eval(python, {"__builtins__": {}}))  # noqa: S307 (the action's own text)

    def run(self, inputs: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
        """Run every step, as the runner does: a failed step skips the rest. Returns the
        action's outputs."""
        failed = False
        for step in self.action["runs"]["steps"]:
            if "run" not in step:
                continue
            context = self._context(inputs or {})
            if failed or ("if" in step and not self._condition(step["if"], context)):
                continue
            name = step.get("id") or step["name"]
            output = self.tmp / f"output-{name}"
            output.touch()
            env = {**self.env, "GITHUB_OUTPUT": str(output), **extra,
                   **{k: _evaluate(v, context) for k, v in step.get("env", {}).items()}}
            script = self.tmp / "step.sh"
            script.write_text(step["run"], encoding="utf-8")
            result = subprocess.run(["bash", "--noprofile", "--norc", "-e", str(script)],
                                    cwd=self.work, env=env, capture_output=True, text=True,
                                    timeout=60, check=False)
            self.results[name] = result
            self.outputs[name] = dict(line.split("=", 1)
                                      for line in output.read_text().splitlines() if line)
            failed = result.returncode != 0
        context = self._context(inputs or {})
        return {name: _evaluate(spec["value"], context)
                for name, spec in self.action["outputs"].items()}

    def failed_step(self) -> str | None:
        return next((name for name, r in self.results.items() if r.returncode != 0), None)

    def log(self) -> str:
        return "\n".join(r.stdout + r.stderr for r in self.results.values())


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.org",
           "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.org"}
    bare, seed = tmp_path / "remote.git", tmp_path / "seed"
    _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare), env=env)
    _git(tmp_path, "init", "--quiet", "--initial-branch=main", str(seed), env=env)
    files = {"formsync.toml": "", "README.md": "# group\n", "calendar.ics": "x\n",
             "notes.txt": "mine\n"}
    for group in ("a", "b"):
        files |= {f"groups/{group}/formsync.toml": "", f"groups/{group}/README.md": f"# {group}\n"}
    for name, text in files.items():
        (seed / name).parent.mkdir(parents=True, exist_ok=True)
        (seed / name).write_text(text, encoding="utf-8")
    _git(seed, "add", ".", env=env)
    _git(seed, "commit", "--quiet", "-m", "start", env=env)
    _git(seed, "push", "--quiet", str(bare), "main", env=env)
    return bare


def _log(remote: Path) -> list[str]:
    return _git(remote, "log", "--format=%an|%s", "main",
                env={"PATH": os.environ["PATH"]}).splitlines()


def _files(remote: Path, rev: str = "main") -> list[str]:
    return sorted(_git(remote, "show", "--name-only", "--format=", rev,
                       env={"PATH": os.environ["PATH"]}).split())


def test_installs_formsync_from_the_actions_own_checkout(tmp_path: Path, remote: Path,
                                                         action: dict[str, Any]) -> None:
    run = ActionRun(tmp_path, action, remote, "one")
    run.run({"dry-run": "true"})
    pip = (run.tmp / "pip-args").read_text().splitlines()
    assert pip[-1] == str(ROOT) and pip[:3] == ["-m", "pip", "install"]
    assert run.outputs["install"]["bin"] == str(run.tmp / "runner-temp/formsync-venv/bin/formsync")


def test_sync_commits_only_formsyncs_files_and_reports_outputs(tmp_path: Path, remote: Path,
                                                               action: dict[str, Any]) -> None:
    run = ActionRun(tmp_path, action, remote, "one")
    (run.work / "gha-creds-1234.json").write_text("{}", encoding="utf-8")
    outputs = run.run(FAKE_WRITE="README.md calendar.ics .formsync/readme-table.md notes.txt",
                      FAKE_CHANGED="true", FAKE_PROBLEMS="3")
    assert run.failed_step() is None, run.log()
    assert (run.tmp / "formsync-args").read_text().split() == ["--config", "formsync.toml",
                                                               "sync"]
    assert outputs["changed"] == "true" and outputs["problems"] == "3"
    assert outputs["exit-code"] == "0"
    assert _log(remote)[0] == "github-actions[bot]|formsync: update calendar"
    # The default commit list is what the config says formsync writes (`commit-paths`).
    assert _files(remote) == [".formsync/readme-table.md", "README.md", "calendar.ics"]
    assert outputs["commit-sha"] == _git(remote, "rev-parse", "main", env=run.env).strip()
    assert TOKEN not in run.log()
    assert TOKEN not in (run.work / ".git" / "config").read_text()


def test_dry_run_and_now_commit_nothing_and_now_is_never_shell_code(
        tmp_path: Path, remote: Path, action: dict[str, Any]) -> None:
    run = ActionRun(tmp_path, action, remote, "one")
    now = '2020-11-30T10:00-06:00"; touch pwned; echo "$(touch pwned2)'
    outputs = run.run({"now": now}, FAKE_WRITE="README.md")
    assert run.failed_step() is None, run.log()
    assert (run.tmp / "formsync-args").read_text().splitlines() == [
        "--config", "formsync.toml", "sync", "--dry-run", "--now", now]
    assert "commit" not in run.results and outputs["commit-sha"] == ""
    assert not (run.work / "pwned").exists() and not (run.work / "pwned2").exists()
    assert len(_log(remote)) == 1


def test_a_partial_failure_commits_what_was_applied_then_fails(tmp_path: Path, remote: Path,
                                                               action: dict[str, Any]) -> None:
    run = ActionRun(tmp_path, action, remote, "one")
    outputs = run.run(FAKE_WRITE="README.md", FAKE_EXIT="1")
    assert outputs["exit-code"] == "1"
    assert _files(remote) == ["README.md"]
    assert run.failed_step() == "Fail when formsync failed"


def test_a_config_mistake_commits_nothing(tmp_path: Path, remote: Path,
                                          action: dict[str, Any]) -> None:
    run = ActionRun(tmp_path, action, remote, "one")
    outputs = run.run(FAKE_WRITE="README.md", FAKE_EXIT="2")
    assert outputs["exit-code"] == "2" and "commit" not in run.results
    assert run.failed_step() == "Fail when formsync failed"
    assert len(_log(remote)) == 1


def test_commit_input_names_the_files_or_turns_committing_off(tmp_path: Path, remote: Path,
                                                              action: dict[str, Any]) -> None:
    chosen = ActionRun(tmp_path, action, remote, "chosen")
    chosen.run({"commit": "notes.txt\nmissing.md"}, FAKE_WRITE="README.md notes.txt")
    assert chosen.failed_step() is None, chosen.log()
    assert _files(remote) == ["notes.txt"]
    off = ActionRun(tmp_path, action, remote, "off")
    off.run({"commit": "false"}, FAKE_WRITE="README.md")
    assert "commit" not in off.results and len(_log(remote)) == 2


def test_keepalive_is_opt_in_and_reenables_this_workflow(tmp_path: Path, remote: Path,
                                                         action: dict[str, Any]) -> None:
    quiet = ActionRun(tmp_path, action, remote, "quiet")
    quiet.run()
    assert not (quiet.tmp / "gh-args").exists()
    alive = ActionRun(tmp_path, action, remote, "alive")
    alive.run({"keepalive": "true"})
    assert alive.failed_step() is None, alive.log()
    assert (alive.tmp / "gh-args").read_text().splitlines() == [
        "api", "--method", "PUT",
        f"repos/{REPOSITORY}/actions/workflows/formsync.yml/enable", "--silent"]


def test_list_groups_gives_the_matrix_and_max_parallel_and_syncs_nothing(
        tmp_path: Path, remote: Path, action: dict[str, Any]) -> None:
    run = ActionRun(tmp_path, action, remote, "list")
    outputs = run.run({"list-groups": "groups/*/formsync.toml"})
    assert run.failed_step() is None, run.log()
    assert "sync" not in run.results and not (run.tmp / "formsync-args").exists()
    assert [g["group"] for g in json.loads(outputs["matrix"])["include"]] == [
        "a", "b"]
    assert outputs["max-parallel"] == "2"
    assert "Sheets requests per run" in run.results["groups"].stdout


def test_two_groups_racing_to_push_both_land(tmp_path: Path, remote: Path,
                                             action: dict[str, Any]) -> None:
    """Both jobs check out the same commit; the second push is rejected, rebased, retried."""
    first = ActionRun(tmp_path, action, remote, "a")
    second = ActionRun(tmp_path, action, remote, "b")
    first.run({"config": "groups/a/formsync.toml"}, FAKE_WRITE="groups/a/README.md")
    second.run({"config": "groups/b/formsync.toml"}, FAKE_WRITE="groups/b/README.md")
    assert first.failed_step() is None and second.failed_step() is None, second.log()
    assert "Push rejected (attempt 1)" in second.log()
    assert [line.split("|")[0] for line in _log(remote)] == [
        "github-actions[bot]", "github-actions[bot]", "Ana"]
    assert _files(remote, "main") == ["groups/b/README.md"]
    assert _files(remote, "main~1") == ["groups/a/README.md"]


def test_a_real_conflict_fails_cleanly_and_the_first_push_stays(tmp_path: Path, remote: Path,
                                                                 action: dict[str, Any]) -> None:
    first = ActionRun(tmp_path, action, remote, "a")
    second = ActionRun(tmp_path, action, remote, "b")
    first.run(FAKE_WRITE="README.md")
    second.run(FAKE_WRITE="README.md")
    assert second.failed_step() == "commit"
    assert "::error::formsync's files were also changed on main" in second.log()
    assert not (second.work / ".git" / "rebase-merge").exists()
    assert len(_log(remote)) == 2


def test_the_real_formsync_through_the_action_commits_only_the_repository_files(
        tmp_path: Path, remote: Path, action: dict[str, Any]) -> None:
    """A local workspace under ws/: the sheets (CSV files with people's addresses) change too,
    but only the README, its record and calendar.ics are committed."""
    setup = ActionRun(tmp_path, action, remote, "setup")
    made = subprocess.run([str(REAL_FORMSYNC), "demo", "ws"], cwd=setup.work, env=setup.env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert made.returncode in {0, 1}, made.stdout + made.stderr
    who = ["-c", "user.name=Ana", "-c", "user.email=ana@example.org"]
    _git(setup.work, "add", "ws", env=setup.env)
    _git(setup.work, *who, "commit", "--quiet", "-m", "the group's workspace", env=setup.env)
    _git(setup.work, "push", "--quiet", str(remote), "main", env=setup.env)

    run = ActionRun(tmp_path, action, remote, "run")
    sessions = run.work / "ws" / "Sessions.csv"
    sessions.write_text(sessions.read_text(encoding="utf-8").replace(
        ",Preliminaries,", ",Preliminaries and Tools,"), encoding="utf-8")
    outputs = run.run({"config": "ws/formsync.toml"}, FAKE_REAL="1")
    assert outputs["exit-code"] in {"0", "1"}, run.log()
    assert outputs["changed"] == "true" and outputs["problems"].isdigit()
    committed = _files(remote)
    assert "ws/README.md" in committed, run.log()
    assert set(committed) <= {"ws/README.md", "ws/.formsync/readme-table.md", "ws/calendar.ics"}
    assert "Preliminaries and Tools" in _git(remote, "show", "main:ws/README.md", env=run.env)
    assert (run.tmp / "summary").read_text(encoding="utf-8").startswith("## formsync sync")
