"""Fixtures for the calendar tests: the loopback emulator and configs that point at it.

(The same shapes as tests/google/conftest.py; fixtures are not shared across folders.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from tests.calendar.builders import CALENDAR_ID, make_config

from formsync.config import Config
from formsync.emulator import Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.emulator.testing import google_settings, make_service_account

MakeConfig = Callable[..., Config]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def calendar_api(emulator: Emulator) -> CalendarApi:
    api = cast(CalendarApi, emulator.apis["calendar"])
    api.add_calendar(CALENDAR_ID)
    return api


@pytest.fixture
def google_config(emulator: Emulator, calendar_api: CalendarApi, tmp_path: Path) -> MakeConfig:
    """A Google-backend config whose service-account key file the emulator accepts."""
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(make_service_account(emulator)), encoding="utf-8")

    def make(*, google: dict[str, Any] | None = None, **calendar: Any) -> Config:
        settings = google_settings(emulator, **{"credentials_file": key.name,
                                                "timeout_seconds": 5,
                                                "retry_deadline_seconds": 5, **(google or {})})
        calendar.setdefault("calendar_id", CALENDAR_ID)
        return make_config(tmp_path, backend="google", google=settings, **calendar)

    return make
