"""Reminder emails for the study group: what is due (pure), composing, and sending exactly once.

    reminders, problems = plan.plan_reminders(sessions, members, ledger_table, config, now)
    problems += send.send_reminders(reminders, sessions, members, config, sheets, transport, now)

`plan.py` decides (no clock, no I/O), `compose.py` renders Jinja2 templates into messages,
`ledger.py` reads and batches writes to the `Reminders` worksheet, `transports.py` moves
messages (outbox folder, SMTP, Gmail API) and `send.py` runs the exactly-once protocols. This
package's `__init__` imports nothing, so planning loads no adapter, SMTP or Jinja2.
"""
