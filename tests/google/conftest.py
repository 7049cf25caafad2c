"""Fixtures for tests that talk to the loopback Google emulator through the real clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.auth.credentials import Credentials

from formsync.config import Google
from formsync.emulator import Emulator
from formsync.emulator.testing import FakeTime, google_settings, make_service_account
from formsync.google.auth import SCOPE_SHEETS, load_credentials
from formsync.google.transport import RetryPolicy, open_gspread_client


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def service_account_info(emulator: Emulator) -> dict[str, str]:
    return make_service_account(emulator)


@pytest.fixture
def google_cfg(emulator: Emulator) -> Google:
    return Google(**google_settings(emulator, timeout_seconds=5, retry_deadline_seconds=60))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def policy(google_cfg: Google, fake_time: FakeTime) -> RetryPolicy:
    return RetryPolicy.from_config(google_cfg, sleep=fake_time.sleep, clock=fake_time.clock)


MakeCredentials = Callable[..., Credentials]


@pytest.fixture
def make_credentials(google_cfg: Google) -> MakeCredentials:
    """Credentials from key JSON handed over in the environment, as CI would."""

    def make(info: dict[str, Any], scopes: tuple[str, ...] = (SCOPE_SHEETS,),
             cfg: Google | None = None) -> Credentials:
        cfg = cfg or google_cfg
        return load_credentials(cfg, scopes, environ={cfg.credentials_env: json.dumps(info)})

    return make


@pytest.fixture
def credentials(make_credentials: MakeCredentials,
                service_account_info: dict[str, str]) -> Credentials:
    return make_credentials(service_account_info)


@pytest.fixture
def gspread_client(google_cfg: Google, credentials: Credentials, policy: RetryPolicy) -> Any:
    return open_gspread_client(google_cfg, credentials, policy=policy)
