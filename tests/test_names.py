"""Issue 12 §3: guide names and session labels as people write them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.helpers import table
from tests.reminders.support import at, make_config, member

from formsync.calendar.plan import CreateEvent, plan_calendar
from formsync.config import parse_config
from formsync.model import (
    MEMBER_HEADER,
    MEMBERS,
    REMINDER_HEADER,
    REMINDERS,
    SESSION_HEADER,
    SESSIONS,
    Member,
    Session,
    Snapshot,
    Table,
)
from formsync.names import guide_matches, public_guide, session_label, session_name
from formsync.plan import plan
from formsync.readme import import_table
from formsync.reminders.compose import Composer
from formsync.reminders.plan import GUIDE, READING, Reminder, plan_reminders
from formsync.sessions import check_rules, read_sessions

SEED = Path(__file__).parent / "data" / "study-group-README.md"
TONO = member("j.diaz@opianalytics.com", "Toño Díaz")
GUS = member("o.lopez@opianalytics.com", "Gus López")
ANA_L = member("ana.l@example.org", "Ana López")
ANA_R = member("ana.r@example.org", "Ana Ruiz")
MEMBERS_LIST: list[Member] = [TONO, GUS, ANA_L, ANA_R]
SETUP = Table(REMINDERS, REMINDER_HEADER,
              (("setup", "", "", "recorded", "", "2020-10-01T00:00:00-05:00", ""),))


# ---- guides ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "found"), [
    ("Toño", ["j.diaz@opianalytics.com"]),
    ("toño", ["j.diaz@opianalytics.com"]),
    ("TONO", ["j.diaz@opianalytics.com"]),  # accents never matter
    ("  Toño   Díaz ", ["j.diaz@opianalytics.com"]),
    ("Tono Diaz", ["j.diaz@opianalytics.com"]),
    ("Toño D", ["j.diaz@opianalytics.com"]),
    ("J.Diaz@OpiAnalytics.com", ["j.diaz@opianalytics.com"]),
    ("Gus", ["o.lopez@opianalytics.com"]),
    ("Ana", ["ana.l@example.org", "ana.r@example.org"]),  # ambiguous: both are candidates
    ("Ana R", ["ana.r@example.org"]),
    ("López", []),  # a surname alone is not the start of a name
    ("Pedro", []),
    ("", []),
])
def test_a_guide_cell_finds_members_by_name_start_without_accents_or_case(
        cell: str, found: list[str]) -> None:
    assert [m.email for m in guide_matches(cell, MEMBERS_LIST)] == found


def test_an_exact_name_wins_over_longer_names_that_start_with_it() -> None:
    ana = member("ana@example.org", "Ana")
    assert guide_matches("ana", [ANA_L, ana, ANA_R]) == [ana]


def test_a_member_on_two_rows_is_one_candidate() -> None:
    assert guide_matches("Toño", [TONO, TONO]) == [TONO]


def guided(guide: str) -> list[Session]:
    return [Session(row=2, key="1", chapter="Introduction", guide=guide,
                    date=dt.date(2020, 10, 20), start=dt.time(17))]


def test_toño_gets_the_guide_reminder_of_his_session(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    due, problems = plan_reminders(guided("Toño"), MEMBERS_LIST, SETUP, config,
                                   at("2020-10-14"))
    assert [(r.kind, r.recipient, r.name) for r in due if r.kind == GUIDE] == [
        (GUIDE, "j.diaz@opianalytics.com", "Toño Díaz")]
    assert problems == []


def test_an_ambiguous_guide_is_reported_with_its_candidates(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    due, problems = plan_reminders(guided("Ana"), MEMBERS_LIST, SETUP, config,
                                   at("2020-10-14"))
    assert [r for r in due if r.kind == GUIDE] == []
    [problem] = problems
    assert (problem.sheet, problem.row, problem.column) == (SESSIONS, 2, "Guide")
    assert "matches 2 members (Ana López <ana.l@example.org>, Ana Ruiz <ana.r@example.org>)" \
        in problem.message
    assert "write more of the name" in problem.fix


def test_a_first_name_and_the_full_name_are_one_guide_for_the_rules() -> None:
    sessions = [*guided("Toño"), Session(row=6, key="5", chapter="Computation",
                                         guide="Toño Díaz", date=dt.date(2020, 12, 15))]
    volunteer = member("eva@example.org", "Eva", volunteer="yes")
    problems = check_rules(sessions, [*MEMBERS_LIST, volunteer], dt.datetime(2020, 1, 1))
    assert [p.message for p in problems if "guides sessions" in p.message] == [
        "Toño guides sessions 1, 5 while 1 volunteer(s) have not guided yet (Eva)"]


@pytest.mark.parametrize(("cell", "shown"), [
    ("Toño", "Toño"),  # as written in Sessions, not the member's full name
    ("toño d", "toño d"),
    ("j.diaz@opianalytics.com", "Toño Díaz"),
    ("Toño (j.diaz@opianalytics.com)", "Toño"),
    ("Toño <j.diaz@opianalytics.com>", "Toño"),
    ("nobody@example.org", ""),
    ("", ""),
])
def test_the_public_guide_is_the_name_as_written_never_an_address(cell: str,
                                                                 shown: str) -> None:
    assert public_guide(cell, MEMBERS_LIST) == shown


def test_the_readme_and_the_calendar_never_show_a_guides_email(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Grupo\n\n## Calendario\n\n<!-- formsync:calendar:start"
                                        " -->\n<!-- formsync:calendar:end -->\n",
                                        encoding="utf-8")
    config = parse_config({"group": {"name": "D2L"}, "reminders": {"enabled": False}},
                          tmp_path)
    members = Table(MEMBERS, MEMBER_HEADER, (
        ("j.diaz@opianalytics.com", "Toño Díaz", "2020-10-01T10:00:00+00:00", "", "active", "",
         "es", ""),))
    sessions = Table(SESSIONS, SESSION_HEADER, (
        ("1", "Intro", "j.diaz@opianalytics.com", "", "", "2020-10-20", "17:00", "19:00"),
        ("2", "Next", "Gus <o.lopez@opianalytics.com>", "", "", "2020-11-03", "17:00",
         "19:00")))
    result = plan(Snapshot(members=members, sessions=sessions,
                           readme_text=(tmp_path / "README.md").read_text(encoding="utf-8")),
                  config, dt.datetime(2020, 10, 1, tzinfo=dt.UTC))
    assert result.readme is not None
    readme = result.readme.new_text
    assert "@" not in readme and "| Toño Díaz |" in readme and "| Gus " in readme
    events = [a for a in result.calendar if isinstance(a, CreateEvent)]
    assert [e.event.description.splitlines()[0] for e in events] == [
        "Guía: Toño Díaz", "Guía: Gus"]


# ---- sessions without a number -----------------------------------------------------------

def seed_optional() -> Session:
    sessions, _, _ = read_sessions(import_table(SEED.read_text(encoding="utf-8")))
    return sessions[-1]


@pytest.mark.parametrize(("key", "chapter", "language", "label"), [
    ("3", "Linear Neural Networks", "es", "Sesión 3 – Linear Neural Networks"),
    ("3", "Session 3 - Linear Neural Networks", "en", "Session 3 – Linear Neural Networks"),
    ("", "Optional Session - Tools for Deep Learning", "es",
     "Sesión opcional – Tools for Deep Learning"),
    ("", "Optional Session - Tools for Deep Learning", "en",
     "Optional session – Tools for Deep Learning"),
    ("Optional", "Tools for Deep Learning", "es", "Sesión opcional – Tools for Deep Learning"),
    ("Opcional", "Tools", "en", "Optional session – Tools"),
    ("", "Sesión extra: Papers", "es", "Sesión extra – Papers"),
    ("Bonus", "Papers", "en", "Bonus session – Papers"),
    ("7b", "Papers", "en", "Session 7b – Papers"),
    ("", "Tools for Deep Learning", "es", "Sesión – Tools for Deep Learning"),
])
def test_session_labels(key: str, chapter: str, language: str, label: str) -> None:
    assert session_label(Session(row=2, key=key, chapter=chapter), language) == label


def test_the_seeds_optional_session_keeps_its_label_in_sentences() -> None:
    optional = seed_optional()
    assert (optional.key, optional.chapter) == ("", "Optional Session - Tools for Deep Learning")
    assert session_name(optional, "es") == "sesión opcional"
    assert session_name(optional, "en") == "the optional session"
    assert session_name(Session(row=2, key="3", chapter="X"), "en") == "session 3"


def dated_optional(day: dt.date = dt.date(2020, 12, 8)) -> Session:
    from dataclasses import replace

    return replace(seed_optional(), date=day, start=dt.time(17), guide="Gus")


@pytest.mark.parametrize(("language", "subject"), [
    ("es", "Sesión opcional – Tools for Deep Learning"),
    ("en", "Optional session – Tools for Deep Learning"),
])
def test_the_reading_reminder_of_the_optional_session_keeps_its_label(
        tmp_path: Path, language: str, subject: str) -> None:
    config = make_config(tmp_path)
    optional = dated_optional()
    due, _ = plan_reminders([optional], MEMBERS_LIST, SETUP, config, at("2020-12-06"))
    readings = [r for r in due if r.kind == READING]
    assert {r.session for r in readings} == {"Optional Session - Tools for Deep Learning"}
    reminder = Reminder(READING, readings[0].session, TONO.email, at("2020-12-06"), language,
                        TONO.name)
    message = Composer(config, [optional], MEMBERS_LIST, at("2020-12-06")).compose(reminder)
    assert message["Subject"] == subject


def test_the_guide_of_the_optional_session_gets_a_reminder_naming_it(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    optional = dated_optional()
    due, problems = plan_reminders([optional], MEMBERS_LIST, SETUP, config, at("2020-12-02"))
    [guide] = [r for r in due if r.kind == GUIDE]
    assert (guide.recipient, problems) == ("o.lopez@opianalytics.com", [])
    message = Composer(config, [optional], MEMBERS_LIST, at("2020-12-02")).compose(guide)
    assert message["Subject"] == "Eres guía de la sesión opcional: Tools for Deep Learning"


def test_a_dated_optional_session_gets_an_event_and_the_same_rules(tmp_path: Path) -> None:
    config = parse_config({"group": {"name": "D2L"}}, tmp_path)
    optional = dated_optional()
    actions, problems = plan_calendar([optional], [], [], config, dt.datetime(2020, 12, 1))
    [create] = actions
    assert isinstance(create, CreateEvent) and problems == []
    assert create.event.label == "Sesión opcional – Tools for Deep Learning"
    assert create.event.session == "Optional Session - Tools for Deep Learning"
    same_day = Session(row=5, key="4", chapter="MLP", date=optional.date, guide="Gus")
    eva = member("eva@example.org", "Eva", volunteer="yes")
    rules = check_rules([same_day, optional], [*MEMBERS_LIST, eva], dt.datetime(2020, 12, 1))
    assert [p.message for p in rules] == [
        "Gus guides sessions 4, Optional Session - Tools for Deep Learning while 1 "
        "volunteer(s) have not guided yet (Eva)",
        "sessions 4, Optional Session - Tools for Deep Learning are all on 2020-12-08"]


def test_an_undated_optional_session_has_no_event_and_no_problem(tmp_path: Path) -> None:
    config = parse_config({"group": {"name": "D2L"}}, tmp_path)
    assert plan_calendar([seed_optional()], [], [], config, dt.datetime(2020, 12, 1)) == ([], [])


def test_a_seed_sheet_with_the_optional_row_reads_it_unnumbered() -> None:
    sheet = table(SESSIONS, "Session,Chapter,Guide,Date\n,Optional Session - Tools,,2020-12-08\n")
    [optional], _, problems = read_sessions(sheet)
    assert optional.number is None and problems == []
    assert session_label(optional, "es") == "Sesión opcional – Tools"
