"""The shipped GitHub workflow (.github/workflows/formsync.yml).

Offline checks with the real tools (check-jsonschema's bundled GitHub-workflow schema, zizmor with
every audit persona), structural checks of what matters for an unattended job (schedule off the
hour, no overlapping runs, least privilege, pinned actions, no template injection, secrets only
where formsync runs), and the workflow's own shell steps run for real with a fake `formsync` and a
local git remote: dry runs commit nothing, only README.md and calendar.ics are ever committed, a
partly failed sync still commits what it applied, and inputs never become shell code.
"""

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
WORKFLOW = ROOT / ".github" / "workflows" / "formsync.yml"
TOOLS = Path(sys.executable).parent

# The pins the workflow must use (full commit SHAs of these release tags).
PINS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "google-github-actions/auth": ("6fc4af4b145ae7821d527454aa9bd537d1f2dc5f", "v2.1.7"),
}
# zizmor findings accepted on purpose, as {audit id: reason}. Keep it empty.
ACCEPTED_ZIZMOR_FINDINGS: dict[str, str] = {}

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _load(text: str) -> dict[str, Any]:
    data = YAML(typ="safe").load(text)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def text() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workflow(text: str) -> dict[str, Any]:
    return _load(text)


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job["steps"]]


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


def _check_schema(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, env=_offline_env(tmp_path), timeout=60, check=False)


# ---------------------------------------------------------------- the real tools, offline


def test_matches_the_github_workflow_schema(tmp_path: Path) -> None:
    result = _check_schema(WORKFLOW, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path, text: str) -> None:
    broken = tmp_path / "formsync.yml"
    broken.write_text(text.replace("runs-on:", "runs_on:"), encoding="utf-8")
    result = _check_schema(broken, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr


def test_zizmor_finds_nothing_even_as_auditor(tmp_path: Path) -> None:
    code, findings, stderr = _zizmor(WORKFLOW, tmp_path)
    unexpected = [f"{f['ident']}: {f['desc']}" for f in findings
                  if f["ident"] not in ACCEPTED_ZIZMOR_FINDINGS]
    assert unexpected == [], unexpected
    assert code == 0 or findings, stderr


@pytest.mark.parametrize(("audit", "old", "new"), [
    ("unpinned-uses", "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
     "actions/checkout@v4"),
    ("template-injection", 'args=(sync)\n', 'args=(sync)\n          echo "${{ inputs.now }}"\n'),
    ("artipacked", "persist-credentials: false", "fetch-depth: 1"),
    ("excessive-permissions", "permissions: {}", "permissions: write-all"),
])
def test_zizmor_really_audits_offline(tmp_path: Path, text: str, audit: str, old: str,
                                      new: str) -> None:
    """Each mistake planted in a copy is caught: the clean result above is not vacuous."""
    assert old in text
    planted = tmp_path / "formsync.yml"
    planted.write_text(text.replace(old, new), encoding="utf-8")
    code, findings, stderr = _zizmor(planted, tmp_path)
    assert audit in {f["ident"] for f in findings}, stderr
    assert code != 0


# ---------------------------------------------------------------- structure


def test_runs_hourly_off_the_top_of_the_hour_and_by_hand(workflow: dict[str, Any]) -> None:
    triggers = workflow["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert crons
    for cron in crons:
        fields = cron.split()
        assert len(fields) == 5, cron
        assert fields[0].isdigit() and 1 <= int(fields[0]) <= 59, f"minute of {cron!r}"
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert inputs["dry_run"]["type"] == "boolean"
    assert inputs["dry_run"]["default"] is True  # a click on "Run workflow" previews first
    assert inputs["now"]["type"] == "string"
    assert not inputs["now"].get("required", False)


def test_two_runs_never_overlap(workflow: dict[str, Any]) -> None:
    assert workflow["concurrency"] == {"group": "formsync", "cancel-in-progress": False}


def test_least_privilege(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        uses_auth = any(str(step.get("uses", "")).startswith("google-github-actions/auth@")
                        for step in job["steps"])
        expected = {"contents": "write", **({"id-token": "write"} if uses_auth else {})}
        assert job["permissions"] == expected, name
        assert job.get("timeout-minutes", 360) <= 30, f"{name}: a hung run would block the next"


def test_exactly_one_job_runs_chosen_by_a_repository_variable(workflow: dict[str, Any]) -> None:
    key, wif = workflow["jobs"]["sync-with-key"], workflow["jobs"]["sync-with-wif"]
    assert key["if"] == "vars.FORMSYNC_WIF_PROVIDER == ''"
    assert wif["if"] == "vars.FORMSYNC_WIF_PROVIDER != ''"
    auth = [s for s in wif["steps"] if str(s.get("uses", "")).startswith("google-github-")]
    assert len(auth) == 1
    assert auth[0]["with"] == {
        "workload_identity_provider": "${{ vars.FORMSYNC_WIF_PROVIDER }}",
        "service_account": "${{ vars.FORMSYNC_WIF_SERVICE_ACCOUNT }}"}
    # Auth writes its credentials file into the workspace: it must come after checkout.
    uses = [str(s.get("uses", "")).split("@")[0] for s in wif["steps"]]
    assert uses.index("actions/checkout") < uses.index("google-github-actions/auth")


def test_both_jobs_run_the_same_steps(workflow: dict[str, Any]) -> None:
    """The two variants differ only in where the Google credentials come from."""
    key, wif = workflow["jobs"]["sync-with-key"], workflow["jobs"]["sync-with-wif"]
    wif_steps = [s for s in wif["steps"] if "google-github-actions/auth" not in s.get("uses", "")]
    key_steps = [dict(s) for s in key["steps"]]
    for step in key_steps:
        if step.get("id") == "sync":
            env = dict(step["env"])
            assert env.pop("FORMSYNC_GOOGLE_CREDENTIALS") == \
                "${{ secrets.FORMSYNC_GOOGLE_CREDENTIALS }}"
            step["env"] = env
    assert key_steps == wif_steps
    for field in ("runs-on", "environment", "timeout-minutes"):
        assert key[field] == wif[field]


def test_no_expression_inside_any_run_block(workflow: dict[str, Any]) -> None:
    runs = [(job, step["run"]) for job, step in _steps(workflow) if "run" in step]
    assert len(runs) >= 6
    for job, script in runs:
        assert "${{" not in script, f"{job}: pass values through env:, not ${{{{ }}}} in run:"


def test_every_action_pinned_to_a_commit_with_its_version(workflow: dict[str, Any],
                                                          text: str) -> None:
    parsed = [step["uses"] for _, step in _steps(workflow) if "uses" in step]
    lines = [line for line in text.splitlines() if re.match(r"\s*(-\s+)?uses:", line)]
    assert len(lines) == len(parsed) == 5
    for line in lines:
        match = re.fullmatch(
            r"\s*(?:-\s+)?uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*", line)
        assert match, f"not pinned to a full SHA with a '# vX.Y.Z' comment: {line.strip()}"
        action, sha, version = match.groups()
        assert PINS[action] == (sha, version), line


def test_checkout_does_not_keep_the_token(workflow: dict[str, Any]) -> None:
    checkouts = [s for _, s in _steps(workflow) if s.get("uses", "").startswith("actions/checkout")]
    assert len(checkouts) == 2
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_secrets_reach_only_the_step_that_needs_them(workflow: dict[str, Any]) -> None:
    assert "secrets." not in json.dumps(workflow.get("env", {}))
    for name, job in workflow["jobs"].items():
        assert "secrets." not in json.dumps(job.get("env", {})), name
        for step in job["steps"]:
            env = step.get("env", {})
            for var, value in env.items():
                if "secrets." in value:
                    assert step.get("id") == "sync", f"{name}: {var} outside the formsync step"
                    assert value == f"${{{{ secrets.{var} }}}}"
                if "github.token" in value:
                    assert step["name"].startswith("Commit"), f"{name}: token outside commit"
            assert "secrets." not in json.dumps(step.get("with", {})), name


def test_commit_step_depends_on_what_the_sync_step_decided(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        commit = [s for s in job["steps"] if s.get("name", "").startswith("Commit")]
        assert len(commit) == 1, name
        assert commit[0]["if"] == "${{ !cancelled() && steps.sync.outputs.commit == 'true' }}"
        assert commit[0] is job["steps"][-1]


# ---------------------------------------------------------------- the shell steps, run for real

FAKE_FORMSYNC = """#!/bin/sh
# A stand-in for formsync: records its arguments, edits the files it is told to, exits as told.
if [ "$1" = "--version" ]; then echo "formsync, version 0.0.fake"; exit 0; fi
printf '%s\\n' "$@" > "$FAKE_ARGS"
for f in $FAKE_WRITE; do echo "changed by sync" >> "$f"; done
echo "fake sync done"
exit "${FAKE_EXIT:-0}"
"""
FAKE_PYTHON = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_PIP_ARGS"
"""
TOKEN = "ghs_faketoken0123456789"
SERVER = "https://github.example"
REPOSITORY = "study-group/calendar"


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True, timeout=30).stdout


class Runner:
    """Runs one job's `run:` steps the way the GitHub runner does (`bash -eo pipefail`)."""

    def __init__(self, tmp_path: Path, workflow: dict[str, Any], job: str) -> None:
        self.tmp = tmp_path
        self.workflow = workflow
        self.job = workflow["jobs"][job]
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, body in (("formsync", FAKE_FORMSYNC), ("python", FAKE_PYTHON)):
            (bin_dir / name).write_text(body, encoding="utf-8")
            (bin_dir / name).chmod(0o755)
        self.remote = tmp_path / "remote.git"
        self.work = tmp_path / "work"
        self.output = tmp_path / "github_output"
        self.base_env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
            # Git may only touch local files: the push URL below is rewritten to the bare remote.
            "GIT_ALLOW_PROTOCOL": "file",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{self.remote}.insteadOf",
            "GIT_CONFIG_VALUE_0": f"https://x-access-token:{TOKEN}@github.example/{REPOSITORY}.git",
            "GITHUB_OUTPUT": str(self.output), "GITHUB_SERVER_URL": SERVER,
            "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_REF_NAME": "main",
            "FAKE_ARGS": str(tmp_path / "formsync-args"),
            "FAKE_PIP_ARGS": str(tmp_path / "pip-args"),
        }
        setup = {**self.base_env, "GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.org",
                 "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.org"}
        _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(self.remote),
             env=setup)
        _git(tmp_path, "init", "--quiet", "--initial-branch=main", str(self.work), env=setup)
        for name in ("README.md", "calendar.ics", "formsync.toml"):
            (self.work / name).write_text(f"{name}\n", encoding="utf-8")
        _git(self.work, "add", ".", env=setup)
        _git(self.work, "commit", "--quiet", "-m", "start", env=setup)
        _git(self.work, "push", "--quiet", str(self.remote), "main", env=setup)

    def step(self, name_start: str) -> dict[str, Any]:
        steps: list[dict[str, Any]] = [s for s in self.job["steps"]
                                       if s.get("name", "").startswith(name_start)]
        assert len(steps) == 1, name_start
        return steps[0]

    def run(self, name_start: str, *, inputs: dict[str, Any] | None = None,
            **extra: str) -> subprocess.CompletedProcess[str]:
        step = self.step(name_start)
        context = {"inputs.dry_run": "", "inputs.now": "", "github.token": TOKEN,
                   "secrets.FORMSYNC_GOOGLE_CREDENTIALS": '{"type": "service_account"}',
                   "secrets.FORMSYNC_SMTP_PASSWORD": "smtp-password"}
        for key, value in (inputs or {}).items():
            context[f"inputs.{key}"] = "true" if value is True else \
                "false" if value is False else str(value)

        def evaluate(value: str) -> str:
            return EXPRESSION.sub(lambda m: context[m.group(1)], value)

        env = {**self.base_env, **self.workflow["env"],
               **{k: evaluate(v) for k, v in step.get("env", {}).items()}, **extra}
        script = self.tmp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=self.work, env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    def outputs(self) -> dict[str, str]:
        if not self.output.exists():
            return {}
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())

    def formsync_args(self) -> list[str]:
        return (self.tmp / "formsync-args").read_text(encoding="utf-8").splitlines()

    def remote_log(self) -> list[str]:
        return _git(self.remote, "log", "--format=%an <%ae>|%s", "main",
                    env=self.base_env).splitlines()

    def remote_files_changed(self) -> list[str]:
        return _git(self.remote, "show", "--name-only", "--format=", "main",
                    env=self.base_env).split()


@pytest.fixture
def runner(tmp_path: Path, workflow: dict[str, Any]) -> Runner:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return Runner(tmp_path, workflow, "sync-with-key")


def test_scheduled_run_commits_only_readme_and_calendar(runner: Runner) -> None:
    # The credentials file google-github-actions/auth leaves in the workspace must never be
    # committed, nor any other file.
    (runner.work / "gha-creds-1234.json").write_text("{}", encoding="utf-8")
    sync = runner.run("Run formsync", FAKE_WRITE="README.md calendar.ics Members.csv")
    assert sync.returncode == 0, sync.stderr
    assert runner.formsync_args() == ["sync"]
    assert runner.outputs() == {"commit": "true"}

    commit = runner.run("Commit")
    assert commit.returncode == 0, commit.stderr
    assert runner.remote_log()[0] == (
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
        "|formsync: update calendar")
    assert sorted(runner.remote_files_changed()) == ["README.md", "calendar.ics"]
    assert TOKEN not in commit.stdout + commit.stderr
    assert TOKEN not in (runner.work / ".git" / "config").read_text()


def test_nothing_changed_means_no_commit(runner: Runner) -> None:
    assert runner.run("Run formsync").returncode == 0
    commit = runner.run("Commit")
    assert commit.returncode == 0, commit.stderr
    assert "Nothing to commit." in commit.stdout
    assert len(runner.remote_log()) == 1


def test_a_missing_calendar_file_is_not_an_error(runner: Runner) -> None:
    # A group with [calendar] disabled has no calendar.ics at all.
    _git(runner.work, "rm", "--quiet", "calendar.ics", env=runner.base_env)
    _git(runner.work, "-c", "user.name=Ana", "-c", "user.email=ana@example.org", "commit",
         "--quiet", "-m", "no calendar", env=runner.base_env)
    _git(runner.work, "push", "--quiet", str(runner.remote), "main", env=runner.base_env)
    assert runner.run("Run formsync", FAKE_WRITE="README.md").returncode == 0
    commit = runner.run("Commit")
    assert commit.returncode == 0, commit.stderr
    assert runner.remote_files_changed() == ["README.md"]


def test_dry_run_input_passes_dry_run_and_commits_nothing(runner: Runner) -> None:
    sync = runner.run("Run formsync", inputs={"dry_run": True})
    assert sync.returncode == 0, sync.stderr
    assert runner.formsync_args() == ["sync", "--dry-run"]
    assert "commit" not in runner.outputs()


def test_now_input_is_always_a_dry_run_and_never_shell_code(runner: Runner) -> None:
    now = '2020-11-30T10:00-06:00"; touch pwned; echo "$(touch pwned2)'
    sync = runner.run("Run formsync", inputs={"dry_run": False, "now": now})
    assert sync.returncode == 0, sync.stderr
    assert runner.formsync_args() == ["sync", "--dry-run", "--now", now]
    assert "commit" not in runner.outputs()
    assert not (runner.work / "pwned").exists()
    assert not (runner.work / "pwned2").exists()


def test_partial_failure_commits_what_was_applied_and_fails_the_job(runner: Runner) -> None:
    sync = runner.run("Run formsync", FAKE_WRITE="README.md", FAKE_EXIT="1")
    assert sync.returncode == 1
    assert runner.outputs() == {"commit": "true"}
    assert runner.run("Commit").returncode == 0
    assert runner.remote_files_changed() == ["README.md"]


def test_configuration_mistake_commits_nothing(runner: Runner) -> None:
    sync = runner.run("Run formsync", FAKE_WRITE="README.md", FAKE_EXIT="2")
    assert sync.returncode == 2
    assert "commit" not in runner.outputs()


def test_install_refuses_the_placeholder_and_installs_a_pinned_spec(runner: Runner) -> None:
    placeholder = runner.run("Install formsync")
    assert placeholder.returncode == 2
    assert "::error::Edit FORMSYNC_PACKAGE" in placeholder.stdout
    assert not (runner.tmp / "pip-args").exists()

    spec = "formsync @ git+https://github.com/study-tools/formsync@0123456789abcdef"
    installed = runner.run("Install formsync", FORMSYNC_PACKAGE=spec)
    assert installed.returncode == 0, installed.stderr
    assert (runner.tmp / "pip-args").read_text().splitlines() == [
        "-m", "pip", "install", "--disable-pip-version-check", spec]
    assert "formsync, version" in installed.stdout
