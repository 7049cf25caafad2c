"""Hostile and broken input that every backend meets (form answers and organizer cells)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from formsync.model import MEMBER_HEADER, RESPONSES, Problem, Table

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


# ---------------------------------------------------------------------------------------------
# Real-world responses sheets: the Form's own "Download responses (.csv)" (year first, a.m./p.m.
# in es or en, no-break spaces, the owner's GMT offset), the linked sheet in an es or en locale,
# Spanish and English questions, and headers a person renamed or doubled. The group's zone is
# formsync's default, America/Mexico_City: CDT (-05:00) until 25 October 2020, CST (-06:00) after.

NBSP, NARROW_NBSP = "\u00a0", "\u202f"
ES = ("Marca temporal", "Dirección de correo electrónico", "Nombre completo")
EN = ("Timestamp", "Email Address", "Name")
ANA, BO = "ana@example.org", "bo@example.org"
# Bo answered on 6 October at 9:00 in Bogotá (always GMT-5), which is 09:00 for the group too.
BO_ES = ("2020/10/06 9:00:00 a. m. GMT-5", BO, "Bo")
BO_EN = ("2020/10/06 9:00:00 AM GMT-5", BO, "Bo")
BO_AT = "2020-10-06T09:00:00-05:00"
Expected = tuple[str, str, str, str, str]  # Email, Name, Registered, Guide volunteer, Language
_SHOWN = ("Email", "Name", "Registered", "Guide volunteer", "Language")


def serial(day: int, month: int, year: int, clock: str) -> float:
    """The date serial a Google sheet holds for a wall-clock time (days since 1899-12-30)."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    days = (dt.date(year, month, day) - dt.date(1899, 12, 30)).days
    return days + (hours * 3600 + minutes * 60 + seconds) / 86_400


@dataclass(frozen=True)
class FormCase:
    """A responses sheet, and exactly what formsync must make of it.

    `members`: every Members row expected, in order. `problems`: every members problem
    expected, each in the responses sheet, as (row, column header or "", words of its message).
    `form` and `columns`: the [form] and [columns] settings. `serials`: the column A timestamps
    as the date serials a Google sheet holds where it shows the text in `rows` (the local
    backend reads that text, as the sheet's own CSV download writes it).
    """

    id: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    members: tuple[Expected, ...]
    problems: tuple[tuple[int, str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    serials: tuple[float, ...] = ()

    def config(self) -> dict[str, dict[str, str]]:
        """The config sections this case sets."""
        return {"form": dict(self.form), "columns": dict(self.columns)}

    def sheet_rows(self) -> list[list[str | float]]:
        """The rows as a Google sheet holds them (serial timestamps where the case has them)."""
        stamps: Sequence[str | float] = self.serials or [row[0] for row in self.rows]
        return [[stamp, *row[1:]] for stamp, row in zip(stamps, self.rows, strict=True)]

    def mismatches(self, problems: Sequence[Problem], members: Table | None) -> list[str]:
        """How an outcome differs from the expected one (empty when it does not)."""
        found = [p for p in problems if p.step == "members"]
        wrong = [f"unexpected problem: {p}" for p in found
                 if not any(_is(p, want) for want in self.problems)]
        wrong += [f"missing problem {want}" for want in self.problems
                  if sum(_is(p, want) for p in found) != 1]
        rows = [] if members is None else [
            tuple(row[MEMBER_HEADER.index(name)] for name in _SHOWN) for row in members.rows]
        if rows != list(self.members):
            wrong.append(f"members {rows} != expected {list(self.members)}")
        return wrong


def _is(problem: Problem, want: tuple[int, str, str]) -> bool:
    row, column, words = want
    return (problem.sheet, problem.row, problem.column) == (RESPONSES, row, column) and (
        words in problem.message)


def _stamp(id: str, stamp: str, registered: str, *, english: bool = False) -> FormCase:
    """Ana answered at `stamp`, Bo after her: both synced, Ana at `registered`."""
    ana: Expected = (ANA, "Ana", registered, "", "")
    bo: Expected = (BO, "Bo", BO_AT, "", "")
    return FormCase(id, EN if english else ES, ((stamp, ANA, "Ana"), BO_EN if english else BO_ES),
                    (ana, bo) if registered < BO_AT else (bo, ana))


def _bad_stamp(id: str, stamp: str, words: str, *, english: bool = False) -> FormCase:
    """Ana's timestamp cannot be: her row (2) is named, Bo's syncs."""
    return FormCase(id, EN if english else ES, ((stamp, ANA, "Ana"), BO_EN if english else BO_ES),
                    ((BO, "Bo", BO_AT, "", ""),), problems=((2, "", words),))


def _both(ana: tuple[str, ...], bo: tuple[str, ...], *, english: bool = False
          ) -> tuple[tuple[str, ...], ...]:
    """Ana's and Bo's answers after the timestamps of a Spanish (or English) Form download."""
    if english:
        return (("2020/10/05 5:03:12 PM GMT-5", *ana), (BO_EN[0], *bo))
    return (("2020/10/05 5:03:12 p. m. GMT-5", *ana), (BO_ES[0], *bo))


ANA_AT = "2020-10-05T17:03:12-05:00"
BOTH_SYNCED: tuple[Expected, ...] = ((ANA, "Ana", ANA_AT, "", ""), (BO, "Bo", BO_AT, "", ""))
LOCALE_SERIALS = (serial(5, 10, 2020, "17:03:12"), serial(6, 10, 2020, "9:00:00"))

FORM_CASES = (
    # The Form's "Download responses (.csv)", from a Spanish and an English account.
    _stamp("es-download-pm", "2020/10/05 5:03:12 p. m. GMT-5", ANA_AT),
    _stamp("en-download-pm", "2020/10/05 5:03:12 PM GMT-5", ANA_AT, english=True),
    _stamp("es-download-no-break-spaces", f"2020/10/05 11:41:07{NBSP}a.{NBSP}m. GMT-5",
           "2020-10-05T11:41:07-05:00"),
    _stamp("en-download-narrow-no-break-space-after-dst",
           f"2020/11/03 9:30:45{NARROW_NBSP}PM GMT-5", "2020-11-03T20:30:45-06:00", english=True),
    _stamp("es-download-12-am-is-the-evening-before-here", "2020/11/02 12:15:00 a. m. GMT-5",
           "2020-11-01T23:15:00-06:00"),
    _stamp("en-download-12-pm-is-noon", "2020/10/05 12:15:00 PM GMT-5",
           "2020-10-05T12:15:00-05:00", english=True),
    _stamp("en-download-gmt-plus-h-mm", "2020/10/05 5:03:12 PM GMT+5:30",
           "2020-10-05T06:33:12-05:00", english=True),
    _stamp("es-download-gmt-minus-h-mm", "2020/10/05 5:03:12 p. m. GMT-3:30",
           "2020-10-05T15:33:12-05:00"),
    _stamp("en-download-bare-gmt", "2020/10/05 5:03:12 PM GMT", "2020-10-05T12:03:12-05:00",
           english=True),
    # The linked sheet in an es locale (day first, 24-hour clock) and in an en one (month first):
    # 05/10 is 5 October only because the questions are in Spanish.
    FormCase("es-locale-sheet", ES, (("05/10/2020 17:03:12", ANA, "Ana"),
                                     ("06/10/2020 9:00:00", BO, "Bo")), BOTH_SYNCED,
             serials=LOCALE_SERIALS),
    FormCase("en-locale-sheet", EN, (("10/5/2020 17:03:12", ANA, "Ana"),
                                     ("10/6/2020 9:00:00", BO, "Bo")), BOTH_SYNCED,
             serials=LOCALE_SERIALS),
    # A time no clock or zone allows: that row is named, the other one syncs.
    _bad_stamp("p-m-after-the-13th-hour", "2020/10/05 13:03:12 p. m. GMT-5",
               "is not a time (hour 13 with pm)"),
    _bad_stamp("gmt-offset-beyond-a-day", "2020/10/05 5:03:12 PM GMT+25",
               "has an impossible offset from GMT", english=True),
    # Spanish and English questions, as the form names them and as people retype them.
    FormCase("es-form-questions", (*ES, "¿Te gustaría ser guía de alguna sesión?",
                                   "Idioma preferido"),
             _both(("ANA@example.org ", "Ana García", "Sí", "Español"),
                   (BO, "Bo", "No", "English")),
             ((ANA, "Ana García", ANA_AT, "yes", "es"), (BO, "Bo", BO_AT, "no", "en"))),
    FormCase("en-form-questions", (*EN, "Would you like to guide a session?",
                                   "Preferred language"),
             _both((ANA, "Ana", "Yes", "English"), (BO, "Bo", "No", "Spanish"), english=True),
             ((ANA, "Ana", ANA_AT, "yes", "en"), (BO, "Bo", BO_AT, "no", "es"))),
    FormCase("headers-in-capitals-without-accents",
             ("MARCA TEMPORAL", "DIRECCION DE CORREO ELECTRONICO", "nombre completo",
              "¿QUIERES SER GUIA?", "IDIOMA"),
             _both((ANA, "Ana", "si", "es"), (BO, "Bo", "", "")),
             ((ANA, "Ana", ANA_AT, "yes", "es"), BOTH_SYNCED[1])),
    FormCase("other-spanish-names", ("Marca de tiempo", "Correo", "Tu nombre"),
             _both((ANA, "Ana"), (BO, "Bo")), BOTH_SYNCED),
    # Questions renamed, and the config naming them ([form], or [columns] for the timestamp).
    FormCase("renamed-email-question-set-in-form",
             ("Marca temporal", "Correo institucional (UNAM)", "Nombre completo"),
             _both((ANA, "Ana"), (BO, "Bo")), BOTH_SYNCED,
             form=(("email_column", "correo institucional (unam)"),)),
    FormCase("renamed-name-and-guide-questions-set-in-form",
             (*EN[:2], "What should we call you?", "Could you lead one session?", "Language"),
             _both((ANA, "Ana", "Yes, gladly", "English"), (BO, "Bo", "No", "English"),
                   english=True),
             ((ANA, "Ana", ANA_AT, "yes", "en"), (BO, "Bo", BO_AT, "no", "en")),
             form=(("name_column", "What should we call you?"),
                   ("guide_column", "Could you lead one session?"))),
    FormCase("renamed-timestamp-set-in-columns", ("Fecha de envío", *ES[1:]),
             _both((ANA, "Ana"), (BO, "Bo")), BOTH_SYNCED,
             columns=(("Timestamp", "Fecha de envío"),)),
    FormCase("renamed-timestamp-not-set", ("Enviado", *ES[1:]),
             _both((ANA, "Ana"), (BO, "Bo")), (),
             problems=((1, "", "no 'Timestamp' column (every response is skipped)"),)),
    # The same question twice (also in another case): formsync reads the first, and says so.
    FormCase("doubled-name-question", (*ES, "Nombre completo"),
             _both((ANA, "Ana", "Ana B."), (BO, "Bo", "Bo B.")), BOTH_SYNCED,
             problems=((1, "", "2 columns are named 'Nombre completo' (C and D); formsync "
                               "reads C"),)),
    FormCase("doubled-email-in-another-case", (*EN, "EMAIL ADDRESS"),
             _both((ANA, "Ana", "other@example.org"), (BO, "Bo", ""), english=True), BOTH_SYNCED,
             problems=((1, "", "2 columns are named 'Email Address' (B and D); formsync "
                               "reads B"),)),
    FormCase("doubled-timestamp", (*ES, "Marca temporal"),
             _both((ANA, "Ana", "ayer"), (BO, "Bo", "")), BOTH_SYNCED,
             problems=((1, "", "2 columns are named 'Marca temporal' (A and D); formsync "
                               "reads A"),)),
)


@dataclass(frozen=True)
class TabCase:
    """Worksheet titles as Google Forms and people write them, matched as Google matches them
    (ignoring case). Google backend only: the local backend's files have exact names
    (responses.csv, Members.csv, Sessions.csv), and whether `members.csv` opens `Members.csv`
    is up to the file system, not formsync.

    `form_tabs`: the form's spreadsheet in tab order; `answers` holds the responses, every other
    tab a decoy response that must not be read. `master_tabs`: the hand-made Members and
    Sessions worksheets, which formsync must use and never add again.
    """

    id: str
    form_tabs: tuple[str, ...]
    answers: str
    master_tabs: tuple[str, str]
    responses_worksheet: str = ""


TAB_CASES = (
    TabCase("es-responses-tab-after-a-notes-tab", ("Notas", "Respuestas de formulario 1"),
            "Respuestas de formulario 1", ("members", "sessions")),
    TabCase("en-responses-tab-in-capitals", ("Summary", "FORM RESPONSES 1"), "FORM RESPONSES 1",
            ("MEMBERS", "Sessions")),
    TabCase("configured-responses-tab-in-another-case",
            ("Respuestas de formulario 2", "respuestas de formulario 1"),
            "respuestas de formulario 1", ("Members", "SESSIONS"),
            responses_worksheet="Respuestas de Formulario 1"),
    TabCase("en-tab-and-mixed-case-master-tabs", ("Form Responses 1",), "Form Responses 1",
            ("mEMBERS", "sESSIONS")),
)
