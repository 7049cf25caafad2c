"""Many groups from one repository: discovery of `groups/*/formsync.toml` as a GitHub Actions
matrix, the files each group's run may commit, and the Google quota arithmetic that sets the
matrix's `max-parallel`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from formsync.config import CONFIG_NAME

if TYPE_CHECKING:
    from formsync.config import Config

PATTERN = f"groups/*/{CONFIG_NAME}"

# Google Sheets API quotas (console.cloud.google.com, "Google Sheets API", Quotas): read and
# write requests are counted apart, each 300 per minute per project and 60 per minute per user.
# A service account is one user, so groups that share one key share the 60.
SHEETS_PER_USER_PER_MINUTE = 60
SHEETS_PER_PROJECT_PER_MINUTE = 300
# Sheets requests of one group's sync, measured on the emulator with the sample group and its
# homework form (`formsync demo --google`; tests/test_groups.py keeps these honest). The busiest
# run is the first one: sheets.get 1, values.batchGet 5, values.append 4, values.batchUpdate 9,
# batchUpdate 3. A run with nothing to do reads each spreadsheet once (form, homework, master).
SHEETS_REQUESTS_BUSIEST_RUN = 22
SHEETS_REQUESTS_QUIET_RUN = 3
# A matrix job spends about a minute setting up Python and installing formsync; the sync itself
# takes seconds, so all of one job's requests fall within one minute.
JOB_MINUTES = 1
# GitHub runs at most 256 jobs of one matrix, and a free account 20 jobs at once.
GITHUB_MATRIX_LIMIT = 256


@dataclass(frozen=True)
class GroupEntry:
    """One matrix entry: the group's name (its folder), its config and the files it commits."""

    group: str
    config: str
    commit: str  # space-separated paths, relative to the repository root

    def as_json(self) -> dict[str, str]:
        return {"group": self.group, "config": self.config, "commit": self.commit}


def commit_paths(config: Config, *, relative_to: Path | None = None) -> list[str]:
    """The files formsync writes into the group's repository: the README, formsync's record of
    its calendar table, and calendar.ics. Never the local sheets (people's addresses)."""
    from formsync.readme_edits import record_path

    paths: list[Path] = []
    if config.readme.enabled:
        readme = config.path(config.readme.path)
        paths += [readme, record_path(readme)]
    if config.calendar.enabled:
        paths.append(config.path(config.calendar.ics_path))
    base = (relative_to or Path.cwd()).resolve()
    shown = []
    for path in paths:
        resolved = path.resolve()
        shown.append(resolved.relative_to(base).as_posix() if resolved.is_relative_to(base)
                     else resolved.as_posix())
    return shown


def find_groups(root: Path, pattern: str = PATTERN) -> list[GroupEntry]:
    """Every config under `root` matching `pattern`, in name order; each is loaded, so a broken
    config stops the discovery with its key and fix instead of failing one matrix job later."""
    from formsync.config import load_config

    root = root.resolve()
    entries = []
    for path in sorted(root.glob(pattern)):
        config = load_config(path)
        paths = commit_paths(config, relative_to=root)
        spaced = [p for p in paths if " " in p]
        if spaced:
            from formsync.errors import ConfigError

            # The matrix entry lists the paths separated by spaces.
            raise ConfigError("", f"{path}: {spaced[0]!r} has a space, which the groups "
                              "workflow cannot commit", fix="rename that file or folder")
        entries.append(GroupEntry(group=path.parent.name,
                                  config=path.relative_to(root).as_posix(),
                                  commit=" ".join(paths)))
    return entries


def matrix(entries: list[GroupEntry]) -> str:
    """The matrix definition for `strategy.matrix: ${{ fromJSON(...) }}`, on one line."""
    return json.dumps({"include": [entry.as_json() for entry in entries]},
                      ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class QuotaPlan:
    """How many groups may sync at once without passing the Sheets per-minute quotas."""

    groups: int
    shared_credentials: bool
    requests_per_run: int = SHEETS_REQUESTS_BUSIEST_RUN

    @property
    def limit_per_minute(self) -> int:
        """The quota that binds: one user's when every group uses the same credentials."""
        return SHEETS_PER_USER_PER_MINUTE if self.shared_credentials \
            else SHEETS_PER_PROJECT_PER_MINUTE

    @property
    def max_parallel(self) -> int:
        fits = max(1, self.limit_per_minute // self.requests_per_run)
        return max(1, min(fits, self.groups, GITHUB_MATRIX_LIMIT))

    @property
    def requests_per_schedule(self) -> int:
        return self.groups * self.requests_per_run

    @property
    def peak_per_minute(self) -> int:
        return self.max_parallel * self.requests_per_run

    @property
    def minutes(self) -> int:
        return math.ceil(self.groups / self.max_parallel) * JOB_MINUTES if self.groups else 0

    def lines(self) -> list[str]:
        who = "one shared credential" if self.shared_credentials else "one credential per group"
        return [
            f"{self.groups} group(s) x {self.requests_per_run} Sheets requests per run "
            f"= {self.requests_per_schedule} requests per scheduled run",
            f"quota: {self.limit_per_minute} requests/min ({who}; Sheets allows "
            f"{SHEETS_PER_USER_PER_MINUTE}/min per user, {SHEETS_PER_PROJECT_PER_MINUTE}/min "
            f"per project)",
            f"max-parallel {self.max_parallel}: at most {self.peak_per_minute} requests/min; "
            f"all groups done in about {self.minutes} min",
        ]


def quota_table(group_counts: tuple[int, ...] = (10, 100)) -> list[str]:
    """The docs' table: the busiest run for each count of groups, shared and own credentials."""
    lines = ["| groups | credentials | requests per scheduled run | max-parallel "
             "| peak requests/min | all done in |",
             "| --- | --- | --- | --- | --- | --- |"]
    for count in group_counts:
        for shared in (True, False):
            plan = QuotaPlan(count, shared_credentials=shared)
            lines.append(f"| {count} | {'one shared' if shared else 'one per group'} "
                         f"| {plan.requests_per_schedule} | {plan.max_parallel} "
                         f"| {plan.peak_per_minute} / {plan.limit_per_minute} "
                         f"| ~{plan.minutes} min |")
    return lines
