"""formsync: keeps a study group's members, sessions, README calendar, events and reminders in step."""

__version__ = "0.1.0"
