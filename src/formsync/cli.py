"""The `formsync` command. Each command reads config, builds adapters, calls the core and
prints what happened. Heavy modules are imported inside commands so `--help` stays fast."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from formsync import __version__
from formsync.registry import STEP_NAMES

if TYPE_CHECKING:
    from collections.abc import Collection

    from formsync.config import Config
    from formsync.ports import Places, SheetsBackend
    from formsync.sync import Report

DEMO_NOW = "2020-11-15T09:30:00-06:00"


class _Now(click.ParamType):  # type: ignore[type-arg]
    name = "ISO-8601"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date-time; e.g. 2020-11-12T09:30-06:00",
                      param, ctx)


def _steps(value: str | None) -> list[str] | None:
    if not value:
        return None
    chosen = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [s for s in chosen if s not in STEP_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown step {', '.join(unknown)}; choose from "
                                 f"{', '.join(STEP_NAMES)}", param_hint="--only")
    return chosen


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Path to formsync.toml (default: the one in the current folder).")
@click.version_option(__version__, prog_name="formsync")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Keep a study group's logistics in step with its Google Sheet.

    \b
    Organizers edit the Sessions sheet; people register with a Google Form.
    `formsync sync` (by hand, cron or a GitHub Action) then:
      members    cleans the form responses into the Members sheet
      sessions   proposes dates for undated sessions and checks the rules
      homework   matches the homework Form's submissions into the Homework sheet
      readme     keeps the calendar table in README.md (and brings edits typed there
                 into Sessions)
      calendar   keeps one calendar event per session
      reminders  emails homework, reading, guide and welcome reminders, once each
      announce   posts the next session, changes and recordings to the group's chat

    \b
    Try it without a Google account:
      formsync demo my-group      build a sample workspace and run everything
      cd my-group && formsync sync --dry-run
    """
    ctx.obj = config_path


def _load(ctx: click.Context) -> Config:
    from formsync.config import load_config

    return load_config(ctx.obj)


def _sheets(config: Config) -> SheetsBackend:
    from formsync.backends import build_sheets

    return build_sheets(config)


def _places(config: Config, steps: Collection[str]) -> Places:
    from formsync.backends import run_places

    return run_places(config, steps)


def _now(value: dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """The run's clock; a --now without an offset is read in the group's time zone."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=zone)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option("--now", type=_Now(), default=None,
              help="Pretend it is this moment, e.g. 2020-11-15T09:30 (group's time zone "
                   "unless an offset is given): preview any day.")
@click.option("--only", default=None, metavar="STEPS",
              help=f"Comma-separated steps to run: {', '.join(STEP_NAMES)}.")
@click.option("--force", is_flag=True,
              help="Apply even when a safety check stops the sync (a sheet suddenly empty).")
@click.option("-v", "--verbose", is_flag=True, help="List every change, not only the first.")
@click.pass_context
def sync(ctx: click.Context, dry_run: bool, now: dt.datetime | None, only: str | None,
         force: bool, verbose: bool) -> None:
    """Plan, apply and report: bring every place in step with the sheets.

    Problems (a bad row, a broken rule, a failed action) are listed in the Problems sheet with
    their place and fix; each new one is printed in full, and mailed once to the organizers.
    Exit code 0: done (or nothing to do; problems listed before, or ticked Ignore, are one line
    of summary); 1: an action failed, or a new error appeared (listed now, so the next run
    passes); 2: a config or usage mistake. In a GitHub Action the report also goes to the job
    summary ($GITHUB_STEP_SUMMARY).
    """
    from formsync.sync import enabled_steps, run_sync

    chosen = _steps(only)
    config = _load(ctx)
    steps = enabled_steps(config, chosen)
    report = run_sync(config, _places(config, steps), _now(now, config.group.tz), steps=steps,
                      dry_run=dry_run, force=force)
    _print_report(report, verbose=verbose)
    _write_job_summary(report)
    _write_step_outputs(report)
    ctx.exit(report.exit_code)


def _print_report(report: Report, *, verbose: bool) -> None:
    from formsync.report import render_report

    click.echo(render_report(report, verbose=verbose))


def _write_job_summary(report: Report) -> None:
    """In a GitHub Action, append the report as Markdown to the job's summary page."""
    import os

    target = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if not target:
        return
    from formsync.report import render_markdown

    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(render_markdown(report))
    except OSError as error:  # the summary is a courtesy: the run itself went as reported
        click.echo(f"warning: cannot write the job summary {target}: "
                   f"{error.strerror or error}", err=True)


def _write_step_outputs(report: Report) -> None:
    """In a GitHub Action, the step outputs `changed` and `problems` (see action.yml)."""
    from formsync.github_action import write_step_outputs

    warning = write_step_outputs(report)
    if warning:
        click.echo(warning, err=True)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default="formsync-demo")
@click.option("--now", type=_Now(), default=DEMO_NOW, show_default=True,
              help="The moment the demo pretends it is (inside the sample group's term).")
@click.option("--google", "on_google", is_flag=True,
              help="Run it on the Google backend instead, against the loopback emulator.")
def demo(directory: Path, now: dt.datetime, on_google: bool) -> None:
    """Build a sample workspace in DIRECTORY (no Google account needed) and run the whole job.

    The sample is a real study group's calendar (16 sessions) and a few dozen registrations,
    some of them messy. DIRECTORY is then an ordinary workspace: run `formsync sync` inside it.
    With --google the same group lives in formsync's Google emulator on 127.0.0.1, reached
    through the real Google client libraries; the API calls are counted.
    """
    if on_google:
        _google_demo(directory, _now(now))
        return
    from formsync.demo import build_demo
    from formsync.sync import enabled_steps, run_sync

    config = build_demo(directory)
    click.echo(f"Sample workspace written to {directory}/\n")
    steps = enabled_steps(config, None)
    report = run_sync(config, _places(config, steps), _now(now), steps=steps)
    _print_report(report, verbose=False)
    click.echo("\n(The sample's broken rows are there on purpose, to show how they are reported.)")
    click.echo(f"\nLook at {directory}/Members.csv, Sessions.csv, README.md, calendar.ics and "
               f"the emails in {directory}/outbox/ and chat posts in {directory}/announcements/, "
               "then try:\n"
               f"  cd {directory} && {_command()} sync --dry-run")


def _command() -> str:
    """How to call formsync again: plain `formsync` if it is on PATH, else its full path."""
    import shutil

    if shutil.which("formsync"):
        return "formsync"
    return str(Path(sys.argv[0]).resolve()) if sys.argv and sys.argv[0] else "formsync"


def _google_demo(directory: Path, now: dt.datetime) -> None:
    from formsync.demo import seed_google_demo
    from formsync.emulator import Emulator
    from formsync.sync import enabled_steps, run_sync

    with Emulator() as emulator:
        config = seed_google_demo(directory, emulator)
        click.echo(f"Google emulator on {emulator.base_url}; sample group seeded.\n")
        before = emulator.counts()
        steps = enabled_steps(config, None)
        report = run_sync(config, _places(config, steps), now, steps=steps)
        _print_report(report, verbose=False)
        calls = emulator.counts() - before
        click.echo("\nGoogle API calls: " + ", ".join(
            f"{name} {count}" for name, count in sorted(calls.by_name.items()) if count))
        emulator.save(directory / "emulator.json")
        port = emulator.port
    click.echo(f"\nEmulator state saved to {directory}/emulator.json. To look around:\n"
               f"  {_command()} emulator --port {port} --state {directory}/emulator.json\n"
               f"  cd {directory} && {_command()} sync --dry-run     (in another terminal)")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--backend", type=click.Choice(["local", "google"]), default="local",
              show_default=True, help="Where the sheets live.")
def init(directory: Path, backend: str) -> None:
    """Write a commented formsync.toml and an empty workspace in DIRECTORY.

    With --backend google: the first time, write formsync.toml to fill in; once it names the
    master spreadsheet, run it again to create the missing worksheets with their headers.
    """
    from formsync.workspace import init_workspace

    for line in init_workspace(directory, backend=backend):
        click.echo(line)


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the set-up, one line per check, with a fix for each failure. Sends nothing.

    Google backend: config, credentials, token exchange, scopes, each spreadsheet, worksheets and
    headers, the calendar (and invitations). Local backend: the workspace files. Both: the
    reminders' transport (an SMTP login, the Gmail mailbox, or the outbox folder).
    """
    from formsync.doctor import render_checks, run_checks

    checks = run_checks(_load(ctx))
    for line in render_checks(checks):
        click.echo(line)
    ctx.exit(0 if all(check.ok for check in checks) else 1)


@cli.command("import-readme")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.pass_context
def import_readme(ctx: click.Context, path: Path | None) -> None:
    """Read the calendar table of an existing README (default: [readme] path) into Sessions."""
    from formsync.workspace import import_readme_into_sessions

    config = _load(ctx)
    for line in import_readme_into_sessions(config, _sheets(config), path):
        click.echo(line)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--pattern", default=None, metavar="GLOB",
              help="Where the groups' configs are, under FOLDER (default: groups/*/formsync.toml).")
@click.option("--json", "as_json", is_flag=True,
              help="Print only the matrix definition (JSON), for strategy.matrix.")
@click.option("--max-parallel", "only_parallel", is_flag=True,
              help="Print only the max-parallel that keeps within the Sheets quota.")
@click.option("--credentials", type=click.Choice(["shared", "per-group"]), default="shared",
              show_default=True, help="One Google credential for all groups, or one each.")
def groups(folder: Path, pattern: str | None, as_json: bool, only_parallel: bool,
           credentials: str) -> None:
    """List the groups under FOLDER as a GitHub Actions matrix, with the quota arithmetic.

    Each groups/NAME/formsync.toml is one group: one matrix job, with the files it commits.
    """
    from formsync.groups import PATTERN, QuotaPlan, find_groups, matrix

    entries = find_groups(folder, pattern or PATTERN)
    quota = QuotaPlan(len(entries), shared_credentials=credentials == "shared")
    if as_json:
        click.echo(matrix(entries))
        return
    if only_parallel:
        click.echo(quota.max_parallel)
        return
    for entry in entries:
        click.echo(f"{entry.group}: {entry.config} (commits {entry.commit})")
    if not entries:
        click.echo(f"no group found: no {pattern or PATTERN} under {folder}")
    for line in quota.lines():
        click.echo(line)


@cli.command("commit-paths")
@click.pass_context
def commit_paths(ctx: click.Context) -> None:
    """Print the files formsync writes in the repository, one per line (what a job commits)."""
    from formsync.groups import commit_paths as paths

    for path in paths(_load(ctx)):
        click.echo(path)


@cli.command("report")
@click.option("--out", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for report.html and report.csv (default: beside formsync.toml).")
@click.option("--now", type=_Now(), default=None, help="The date the report is made on.")
@click.pass_context
def report_command(ctx: click.Context, folder: Path | None, now: dt.datetime | None) -> None:
    """Write the term report for organizers: report.html (one self-contained file: homework per
    member and session as a heat map with totals, the trend per session) and report.csv."""
    from formsync.homework.report import write_report

    config = _load(ctx)
    target = folder or config.root
    target.mkdir(parents=True, exist_ok=True)
    for path in write_report(config, _sheets(config), _now(now, config.group.tz), target):
        click.echo(f"wrote {path}")


@cli.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--state", "state_file", type=click.Path(path_type=Path), default=None,
              help="JSON file the emulator loads at start and saves on Ctrl-C.")
@click.option("--write-credentials", type=click.Path(path_type=Path), default=None,
              help="Also write a service-account key file this emulator accepts.")
def emulator(port: int, state_file: Path | None, write_credentials: Path | None) -> None:
    """Run the loopback Google Workspace emulator (Sheets, Calendar, Gmail, OAuth).

    Point formsync at it with [google] token_uri / *_base_url in formsync.toml, to try the
    Google backend without a Google account. It listens on 127.0.0.1 only.
    """
    from formsync.emulator.server import run_emulator

    run_emulator("127.0.0.1", port, state_file, credentials_out=write_credentials,
                 echo=click.echo)


@cli.group()
def auth() -> None:
    """Google credentials for groups on plain Gmail (OAuth user token)."""


@auth.command()
@click.option("--client-secrets", type=click.Path(path_type=Path), required=True,
              help="The OAuth client JSON ('Desktop app') from the Google Cloud console.")
@click.option("--token", "token_path", type=click.Path(path_type=Path), default=None,
              help="Where to save the token (default: [google] oauth_token_file, else "
                   "formsync-token.json).")
@click.pass_context
def login(ctx: click.Context, client_secrets: Path, token_path: Path | None) -> None:
    """Sign in once in a browser and save a refreshable token for formsync to use."""
    from formsync.google.auth import GMAIL_COMPOSE, SCOPE_CALENDAR, SCOPE_SHEETS, login

    config = _load(ctx)
    target = token_path or config.path(Path(config.google.oauth_token_file or
                                            "formsync-token.json"))
    saved = login(client_secrets, target, [SCOPE_SHEETS, SCOPE_CALENDAR, GMAIL_COMPOSE])
    click.echo(f"token saved to {saved}; set [google] oauth_token_file = \"{saved.name}\"")


def main(argv: list[str] | None = None) -> None:
    """Entry point: a person's mistake is a message and an exit code, never a traceback."""
    from formsync.errors import FormsyncError

    try:
        code = cli.main(args=argv, prog_name="formsync", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        error.show()
        code = 2
    except click.Abort:
        click.echo("Stopped.", err=True)
        code = 130
    except FormsyncError as error:
        click.echo(f"error: {error}", err=True)
        code = error.exit_code
    sys.exit(code if isinstance(code, int) else 0)
