"""Reminder emails for the study group: what is due (pure), composing, and sending exactly once.

    reminders, problems = plan_reminders(sessions, members, ledger_table, config, now)
    problems += send_reminders(reminders, sessions, members, config, sheets, transport, now)

`plan.py` decides (no clock, no I/O), `compose.py` renders Jinja2 templates into messages,
`ledger.py` reads and batches writes to the `Reminders` worksheet, `transports.py` moves
messages (outbox folder, SMTP, Gmail API) and `send.py` runs the exactly-once protocols.
"""

from __future__ import annotations

from formsync.reminders.plan import Reminder, plan_reminders
from formsync.reminders.send import preview, send_reminders, write_preview
from formsync.reminders.transports import (
    GmailTransport,
    OutboxTransport,
    SmtpTransport,
    Transport,
    build_transport,
)

__all__ = ["GmailTransport", "OutboxTransport", "Reminder", "SmtpTransport", "Transport",
           "build_transport", "plan_reminders", "preview", "send_reminders", "write_preview"]
