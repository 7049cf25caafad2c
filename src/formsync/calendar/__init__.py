"""The calendar step: one event per dated session, in an `.ics` file and/or Google Calendar.

- `event.py`: the desired event of a session, its derived id and content hash (domain).
- `plan.py`: `plan_calendar(...)`, pure: sessions and existing events in, actions out.
- `ics.py`: `IcsCalendar`, the local backend (`calendar.ics`).
- `google.py`: `GoogleCalendar`, the Calendar v3 adapter (googleapiclient).

With the Google backend, events go to Google Calendar *and* to the `.ics` file next to the
README (for people who subscribe from Apple or Outlook calendars); each place is planned on its
own (`formsync.backends.calendar_targets`), so a stale or deleted file is repaired without
touching Google. Which backend a run uses is decided in `formsync.backends`. This package's
`__init__` imports nothing, so planning loads no adapter.
"""
