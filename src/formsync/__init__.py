"""formsync: a study group's members, sessions, README, events and reminders in step."""

__version__ = "0.1.0"
