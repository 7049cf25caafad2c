"""The `backend` fixture: every contract test runs on the local CSV backend and on Google
Sheets (GoogleSheets over real gspread + google-auth HTTP to the loopback emulator)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from formsync.config import Config, parse_config
from formsync.emulator import Emulator
from formsync.emulator.testing import FakeTime, google_settings, make_service_account
from formsync.google.auth import SCOPE_SHEETS, load_credentials
from formsync.google.sheets import GoogleSheets
from formsync.google.transport import RetryPolicy
from formsync.local.sheets import LocalSheets
from formsync.ports import SheetsBackend

MASTER_ID = "master-spreadsheet-id"
RESPONSES_ID = "responses-spreadsheet-id"
RESPONSES_TAB = "Form Responses 1"
Settings = Mapping[str, Mapping[str, Any]]


@dataclass
class Backend:
    """A backend under test, and a way to count the writes it made.

    `reopen`: the same storage through a fresh backend (as the next cron run makes it) under
    more settings (config sections merged into this one's). `put_responses`: the form's answers,
    as the backend meets them (local: the Form's CSV download, every field quoted; Google: the
    cells of the form's worksheet, numbers as numbers). `emulator`: Google's, else None."""

    name: str
    sheets: SheetsBackend
    writes: Callable[[], int]
    config: Config
    reopen: Callable[[Settings], Backend]
    put_responses: Callable[[Sequence[str], Sequence[Sequence[str | float]]], None]
    emulator: Emulator | None = None


def _merged(base: Settings, extra: Settings) -> dict[str, dict[str, Any]]:
    merged = {section: dict(values) for section, values in base.items()}
    for section, values in extra.items():
        merged.setdefault(section, {}).update(values)
    return merged


def _local(tmp_path: Path, extra: Settings | None = None) -> Backend:
    sheets = LocalSheets(tmp_path)
    config = parse_config(_merged({"backend": {"folder": str(tmp_path)}}, extra or {}), tmp_path)

    def put_responses(header: Sequence[str], rows: Sequence[Sequence[str | float]]) -> None:
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL).writerows([header, *rows])
        (tmp_path / "responses.csv").write_text(out.getvalue(), encoding="utf-8")

    return Backend("local", sheets, lambda: sheets.writes, config,
                   lambda more: _local(tmp_path, _merged(extra or {}, more)), put_responses)


def _google(emulator: Emulator, tmp_path: Path, extra: Settings | None = None, *,
            info: dict[str, str] | None = None) -> Backend:
    if info is None:
        info = make_service_account(emulator)
        emulator.sheets.create_spreadsheet(MASTER_ID, {"Sheet1": []}, title="Study group")
        emulator.sheets.create_spreadsheet(RESPONSES_ID, {RESPONSES_TAB: []})
    base = {"backend": {"kind": "google"}, "google": google_settings(
        emulator, master_spreadsheet=MASTER_ID, responses_spreadsheet=RESPONSES_ID,
        timeout_seconds=5, retry_deadline_seconds=60)}
    config = parse_config(_merged(base, extra or {}), tmp_path)
    credentials = load_credentials(config.google, [SCOPE_SHEETS],
                                   environ={config.google.credentials_env: json.dumps(info)})
    fake = FakeTime()
    policy = RetryPolicy.from_config(config.google, sleep=fake.sleep, clock=fake.clock)
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)

    def put_responses(header: Sequence[str], rows: Sequence[Sequence[str | float]]) -> None:
        emulator.sheets.set_values(RESPONSES_ID, RESPONSES_TAB, [list(header), *map(list, rows)])

    def reopen(more: Settings) -> Backend:
        return _google(emulator, tmp_path, _merged(extra or {}, more), info=info)

    return Backend("google", sheets, lambda: emulator.counts().writes, config, reopen,
                   put_responses, emulator)


@pytest.fixture(params=["local", "google"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local(tmp_path)
        return
    with Emulator() as emulator:
        yield _google(emulator, tmp_path)


@pytest.fixture
def google_backend(tmp_path: Path) -> Iterator[Backend]:
    """Google only: for behaviour local CSV files cannot have (worksheet titles in any case;
    local file names are exact: responses.csv, Members.csv)."""
    with Emulator() as emulator:
        yield _google(emulator, tmp_path)
