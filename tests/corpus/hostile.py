"""Hostile and broken input that every backend meets (form answers and organizer cells)."""

from __future__ import annotations

LONG = "x" * 50_000

# Form answers that must stay inert text wherever they land (CSV, Sheets, README, email).
HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "| broken | table |",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "Ana\r\nBcc: victim@example.com",
    "Ünïcødé 🎉 عربي עברית",
    LONG,
)

# (email cell, why it must be skipped)
BAD_EMAILS = (
    ("", "no email address"),
    ("no-at-sign.example.org", "is not a valid email address"),
    ("two@@example.org", "is not a valid email address"),
    ("a@b.co\r\nBcc: x@y.z", "is not a valid email address"),
    ("a b@example.org", "is not a valid email address"),
    ("x" * 300 + "@example.org", "is not a valid email address"),
)

# Session cells an organizer may type: (column, value, problem words or "" if accepted)
SESSION_CELLS = (
    ("Date", "32-13-2020", "is not a real date"),
    ("Date", "31-02-2021", "is not a real date"),
    ("Date", "next tuesday", "is not a date"),
    ("Start", "25:99", "is not a time"),
    ("Start", "13:00 PM", "is not a time"),
    ("End", "noon", "is not a time"),
    ("Chapter", "<img src=x onerror=alert(1)> | pipes", ""),
    ("Readings", "[x](javascript:alert(1)) and [ok](https://d2l.ai)", ""),
    ("Guide", "Eve\r\nSubject: hi", ""),
    ("Chapter", LONG, ""),
)
