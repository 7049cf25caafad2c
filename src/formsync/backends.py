"""The one place that turns the config into adapters.

`backend.kind` says where the sheets live (CSV files, or Google Sheets), and with them the
calendar (the `.ics` file, or Google Calendar mirrored to it); `reminders.transport` says how
mail goes (outbox folder, SMTP, Gmail). Adapters are imported only when built, so planning,
`--help` and the local backend load no Google client. A new backend is one adapter module plus
its branch here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from formsync.calendar.event import GOOGLE, ICS
from formsync.config import Config
from formsync.model import ExistingEvent, Problem
from formsync.ports import CalendarBackend, Places, SheetsBackend

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from formsync.calendar.ics import IcsCalendar
    from formsync.calendar.plan import CalendarAction
    from formsync.google.transport import RetryPolicy
    from formsync.reminders.delivery import MailTransport

def uses_google(config: Config) -> bool:
    return config.backend.kind == "google" or config.reminders.transport == "gmail"


def calendar_targets(config: Config) -> tuple[str, ...]:
    """Where events live: Google Calendar and its `.ics` mirror, or the `.ics` file alone."""
    return (GOOGLE, ICS) if config.backend.kind == "google" else (ICS,)


def build_sheets(config: Config, *, policy: RetryPolicy | None = None,
                 credentials: Credentials | None = None) -> SheetsBackend:
    if config.backend.kind == "google":
        from formsync.google.sheets import GoogleSheets

        return GoogleSheets.from_config(config, policy=policy, credentials=credentials)
    from formsync.local.sheets import LocalSheets

    return LocalSheets(config.workspace)


def ics_backend(config: Config) -> IcsCalendar:
    from formsync.calendar.ics import IcsCalendar

    return IcsCalendar(config.path(config.calendar.ics_path), name=config.group.name,
                       timezone=config.group.timezone)


class MirroredCalendar:
    """Google Calendar plus the `.ics` file: both read, each applies its own actions."""

    def __init__(self, primary: CalendarBackend, mirror: CalendarBackend) -> None:
        self.primary, self.mirror = primary, mirror

    def read(self) -> list[ExistingEvent]:
        return [*self.primary.read(), *self.mirror.read()]

    def apply(self, actions: Sequence[CalendarAction], now: dt.datetime) -> list[Problem]:
        return [*self.primary.apply(actions, now), *self.mirror.apply(actions, now)]


def build_calendar(config: Config, *, policy: RetryPolicy | None = None,
                   credentials: Credentials | None = None) -> CalendarBackend:
    """Local backend: the `.ics` file. Google backend: Google Calendar mirrored to the file,
    its calls retried under `policy` (the run's, to share its retry budget)."""
    if GOOGLE not in calendar_targets(config):
        return ics_backend(config)
    from formsync.calendar.google import GoogleCalendar

    return MirroredCalendar(GoogleCalendar.from_config(config, policy=policy,
                                                       credentials=credentials),
                            ics_backend(config))


def build_transport(config: Config, *, policy: RetryPolicy | None = None,
                    credentials: Credentials | None = None,
                    environ: Mapping[str, str] | None = None) -> MailTransport:
    """The transport `reminders.transport` names."""
    from formsync.reminders.transports import GmailTransport, OutboxTransport, SmtpTransport

    kind = config.reminders.transport
    if kind == "smtp":
        return SmtpTransport.from_config(config.reminders.smtp, environ)
    if kind == "gmail":
        return GmailTransport.from_config(config, policy=policy, credentials=credentials)
    return OutboxTransport(config.path(config.reminders.outbox_folder))


def build_places(config: Config, steps: Collection[str], *,
                 sheets: SheetsBackend | None = None, policy: RetryPolicy | None = None,
                 credentials: Credentials | None = None) -> Places:
    """The adapters a run of `steps` needs. `policy` and `credentials`: the run's, shared by
    every Google session, so the run has one retry budget and makes one token exchange."""
    if sheets is None:
        sheets = build_sheets(config, policy=policy, credentials=credentials)
    places = Places(sheets)
    if "calendar" in steps:
        places.calendar = build_calendar(config, policy=policy, credentials=credentials)
    if "reminders" in steps:
        places.mail = build_transport(config, policy=policy, credentials=credentials)
    return places


def run_places(config: Config, steps: Collection[str]) -> Places:
    """The adapters of one run, as the CLI builds them: on Google, one RetryPolicy
    (`google.retry_deadline_seconds` is a budget for the whole run) and one credential holding
    every scope the run needs."""
    policy = credentials = None
    if uses_google(config):
        from formsync.google.auth import load_credentials, run_scopes
        from formsync.google.transport import RetryPolicy

        policy = RetryPolicy.from_config(config.google)
        credentials = load_credentials(config.google, run_scopes(config), base_dir=config.root)
    return build_places(config, steps, policy=policy, credentials=credentials)
