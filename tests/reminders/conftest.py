"""Fixtures for the reminder tests: a local group workspace, a real aiosmtpd server on
loopback, and the Google emulator reached through googleapiclient with a real token exchange."""

from __future__ import annotations

from tests.reminders.support import emulator, group, smtp_server

__all__ = ["emulator", "group", "smtp_server"]
