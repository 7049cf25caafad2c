"""The `backend` fixture: every contract test runs on the local CSV backend and on Google
Sheets (GoogleSheets over real gspread + google-auth HTTP to the loopback emulator)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from formsync.config import Config, parse_config
from formsync.emulator import Emulator
from formsync.emulator.testing import FakeTime, google_settings, make_service_account
from formsync.google.auth import SCOPE_SHEETS, load_credentials
from formsync.google.sheets import GoogleSheets
from formsync.google.transport import RetryPolicy
from formsync.local.sheets import LocalSheets
from formsync.sync import SheetsBackend

MASTER_ID = "master-spreadsheet-id"
RESPONSES_ID = "responses-spreadsheet-id"


@dataclass
class Backend:
    """A backend under test, and a way to count the writes it made."""

    name: str
    sheets: SheetsBackend
    writes: Callable[[], int]
    config: Config


def _local(tmp_path: Path) -> Backend:
    sheets = LocalSheets(tmp_path)
    config = parse_config({"backend": {"folder": str(tmp_path)}}, tmp_path)
    return Backend("local", sheets, lambda: sheets.writes, config)


def _google(emulator: Emulator, tmp_path: Path) -> Backend:
    info = make_service_account(emulator)
    emulator.sheets.create_spreadsheet(MASTER_ID, {"Sheet1": []}, title="Study group")
    emulator.sheets.create_spreadsheet(RESPONSES_ID, {"Form Responses 1": []})
    config = parse_config({"backend": {"kind": "google"}, "google": google_settings(
        emulator, master_spreadsheet=MASTER_ID, responses_spreadsheet=RESPONSES_ID,
        timeout_seconds=5, retry_deadline_seconds=60)}, tmp_path)
    credentials = load_credentials(config.google, [SCOPE_SHEETS],
                                   environ={config.google.credentials_env: json.dumps(info)})
    fake = FakeTime()
    policy = RetryPolicy.from_config(config.google, sleep=fake.sleep, clock=fake.clock)
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    return Backend("google", sheets, lambda: emulator.counts().writes, config)


@pytest.fixture(params=["local", "google"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local(tmp_path)
        return
    with Emulator() as emulator:
        yield _google(emulator, tmp_path)
