"""Session announcements in the group's chat (Discord, Slack, Telegram, Matrix, Teams, or any
webhook), through the apprise library: one library for many chat services.

`channels.py` names the configured channels (pure), `messages.py` writes the texts (pure),
`plan.py` decides what is due from the sessions and the `Reminders` ledger (pure), `post.py`
posts exactly once per channel and records each post in the ledger. This package's `__init__`
imports nothing, so planning never loads apprise.
"""
