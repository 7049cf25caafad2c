from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from formsync.errors import InputError
from formsync.markdown import normalize_cell_text, split_row
from formsync.model import SESSION_HEADER, Session, Table
from formsync.readme import (
    END_MARKER,
    START_MARKER,
    block_text,
    import_table,
    migrate,
    plan_readme,
    render_block,
    replace_block,
    style_of,
)
from formsync.sessions import read_sessions

DATA = Path(__file__).parent / "data"
# Cell text that stresses the escaper: Markdown, HTML, links of every kind, line breaks.
TRICKY = ["|", "\\", "[", "]", "(", ")", "<", "&amp;", "&#53;", "!", "`", "\n", "\r\n", "TBA",
          "NA", "Session 5 - ", "<br>", "https://a.example/x_(y)", "[x](https://c.example/d)",
          "[x](javascript:alert(1))", "Toño", "😀", "שלום"]
cell_texts = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)),
                      max_size=8).map("".join)
SEED = DATA / "study-group-README.md"
SHARED_SEED = Path(__file__).resolve().parents[2] / "shared/seed/study-group-README.md"


def seed_text() -> str:
    return SEED.read_bytes().decode("utf-8")


def rows_of(table: Table) -> list[dict[str, str]]:
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


def sessions_of(table: Table) -> list[Session]:
    sessions, _, problems = read_sessions(table)
    assert not problems
    return sessions


def table_cells(markdown: str) -> list[list[str]]:
    """The cells of the calendar table in `markdown` (header, then rows; no delimiter row)."""
    lines = [line for line in markdown.splitlines() if line.lstrip().startswith("|")]
    return [split_row(line) for index, line in enumerate(lines) if index != 1]


def outside_markers(text: str) -> tuple[str, str]:
    """The text before the start marker and after the end marker line, markers excluded."""
    before, rest = text.split(START_MARKER + "\n", 1) if START_MARKER + "\n" in text else \
        text.split(START_MARKER + "\r\n", 1)
    after = rest.split(END_MARKER, 1)[1]
    return before, after.removeprefix("\r\n").removeprefix("\n")


def with_markers(block: str, before: str = "# Group\n\n## Calendar\n",
                 after: str = "\n## More\n") -> str:
    return f"{before}{START_MARKER}\n{block}{END_MARKER}\n{after}"


# ---- the seed README -------------------------------------------------------------------------

def test_the_copy_of_the_seed_is_byte_for_byte() -> None:
    if not SHARED_SEED.exists():
        pytest.skip("no ../shared next to the repository")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_importing_the_seed_reads_every_session() -> None:
    table = import_table(seed_text())
    assert table.header == SESSION_HEADER
    rows = rows_of(table)
    assert len(rows) == 16
    assert [row["Session"] for row in rows] == [str(n) for n in range(1, 16)] + [""]
    assert rows[-1]["Chapter"] == "Optional Session - Tools for Deep Learning"
    assert rows[2]["Chapter"] == "Linear Neural Networks"
    assert [row["Session"] for row in rows if row["Guide"] == "Toño"] == ["1", "13"]
    assert rows[1]["Slides"] == (
        "[Preliminaries](https://colab.research.google.com/drive/"
        "1a_1pTRPToTXMuLDxzEbdsGTws_AXOY4U?usp=sharing), [Hacking Guide to Neural Networks - "
        "Draft](https://colab.research.google.com/drive/1m0lNJ9n8LUXHHU4pOLrZZjSMjoeRKCrN?"
        "usp=sharing)")
    assert rows[1]["Exercises"] == "NA"
    assert rows[3]["Readings"] == ""  # TBA
    assert (rows[0]["Date"], rows[0]["Start"], rows[0]["End"]) == ("2020-10-20", "17:00", "19:30")
    assert rows[4]["Date"] == rows[4]["Proposed date"] == rows[4]["Notes"] == ""


def test_the_seed_renders_back_cell_for_cell() -> None:
    text = seed_text()
    style = style_of(text.split("### Calendario tentativo\n", 1)[1])
    block = render_block(sessions_of(import_table(text)), language="en", style=style)
    assert block.startswith("Total de sesiones: 15\n\n| Chapter ")
    assert table_cells(block) == table_cells(text)


def test_migrating_the_seed_only_adds_the_markers() -> None:
    text = seed_text()
    migrated = migrate(text)
    assert migrated is not None
    assert migrated.replace(START_MARKER + "\n", "").replace(END_MARKER + "\n", "") == text
    assert f"### Calendario tentativo\n{START_MARKER}\nTotal de sesiones: 15\n\n|" in migrated
    assert migrated.endswith(f"| TBA                                                    |\n"
                             f"{END_MARKER}\n")
    assert migrate(migrated) == migrated


def test_migrating_a_crlf_readme_keeps_its_line_endings() -> None:
    text = seed_text().replace("\n", "\r\n")
    migrated = migrate(text)
    assert migrated is not None
    assert f"\r\n{START_MARKER}\r\nTotal de sesiones: 15\r\n" in migrated
    assert migrated.endswith(f"|\r\n{END_MARKER}\r\n")
    assert migrated.replace(START_MARKER + "\r\n", "").replace(END_MARKER + "\r\n", "") == text
    result = plan_readme(migrated, sessions_of(import_table(text)), language="es")
    assert result.new_text is not None and "\n" not in result.new_text.replace("\r\n", "")
    assert outside_markers(result.new_text) == outside_markers(migrated)


def test_planning_the_seed_migrates_then_settles() -> None:
    text = seed_text()
    sessions = sessions_of(import_table(text))
    first = plan_readme(text, sessions, language="es")
    assert first.migrated and not first.problems and first.new_text is not None
    assert outside_markers(first.new_text) == outside_markers(migrate(text) or "")
    assert table_cells(first.new_text) == table_cells(text)
    again = plan_readme(first.new_text, sessions, language="es")
    assert again.new_text is None and not again.migrated and not again.problems


def test_a_new_session_value_changes_only_the_block() -> None:
    text = plan_readme(seed_text(), [], language="es").new_text or ""
    sessions = sessions_of(import_table(text))
    assert sessions == []  # an empty table imports as no rows
    seeded = plan_readme(seed_text(), sessions_of(import_table(seed_text())), language="es")
    assert seeded.new_text is not None
    sessions = sessions_of(import_table(seeded.new_text))
    sessions[4] = Session(row=6, key="5", chapter="Deep Learning Computation", guide="Ana",
                          date=dt.date(2020, 12, 15), start=dt.time(17), end=dt.time(19, 30))
    result = plan_readme(seeded.new_text, sessions, language="es")
    assert result.new_text is not None
    assert "| Session 5 - Deep Learning Computation" in result.new_text
    assert "15-12-2020 17:00 - 19:30" in result.new_text
    assert outside_markers(result.new_text) == outside_markers(seeded.new_text)


# ---- rendering -------------------------------------------------------------------------------

def session(key: str = "1", chapter: str = "Intro", **values: object) -> Session:
    return Session(row=2, key=key, chapter=chapter, **values)  # type: ignore[arg-type]


def test_default_tables_in_spanish_and_english() -> None:
    sessions = [session(), session("", "Opcional")]
    spanish = render_block(sessions, language="es", style=None)
    assert spanish.splitlines()[:3] == [
        "Total de sesiones: 1", "",
        "| Capítulo         | Guía | Lecturas sugeridas | Ejercicios | Fecha/Hora | "
        "Slides/Notebook | Grabación |"]
    assert "| Sesión 1 - Intro |" in spanish and "| Opcional " in spanish
    english = render_block(sessions, language="en", style=None)
    assert english.startswith("Total sessions: 1\n\n| Chapter ")
    assert "| Guide | Suggested Readings | Exercises | Date/Time |" in english


def test_date_time_cells() -> None:
    dated = session(date=dt.date(2020, 10, 20), start=dt.time(17), end=dt.time(19, 30))
    day_only = session(date=dt.date(2020, 10, 20))
    tentative = session(proposed=dt.datetime(2020, 11, 17, 17))
    block = render_block([dated, day_only, tentative, session()], language="es", style=None)
    cells = [row[4] for row in table_cells(block)[1:]]
    assert cells == ["20-10-2020 17:00 - 19:30", "20-10-2020", "~17-11-2020 17:00 (tentativa)", ""]
    assert "(tentative)" in render_block([tentative], language="en", style=None)


def test_blank_cells_are_tba_and_the_guide_stays_blank() -> None:
    row = table_cells(render_block([session(exercises="NA")], language="en"))[1]
    assert row == ["Session 1 - Intro", "", "TBA", "NA", "", "TBA", "TBA"]


def test_rendering_twice_gives_the_same_text() -> None:
    sessions = sessions_of(import_table(seed_text()))
    assert render_block(sessions, language="es") == render_block(sessions, language="es")


HOSTILE = {
    "chapter": "Intro | <script>alert(1)</script>",
    "guide": "[x](javascript:alert(1))",
    "readings": "line one\nline two\r\n[ok](https://ok.example/a) https://bare.example/b",
    "exercises": "😀 emoji and שלום עולם (RTL) \u202e",
    "slides": "a|b|c\\|d [PDF](https://x.example/p.pdf), [Notebook](https://y.example/n)",
    "recording": "x" * 50_000,
}


def test_hostile_cells_keep_the_table_shape_and_only_http_links() -> None:
    sessions = [session(str(n), **HOSTILE) for n in range(1, 4)]
    block = render_block(sessions, language="en")
    lines = [line for line in block.splitlines() if line.startswith("|")]
    assert len(lines) == 5
    assert all(len(split_row(line)) == 7 for line in lines)
    assert "<script" not in block and "\\[x\\](javascript:alert(1))" in block
    assert "[ok](https://ok.example/a) <https://bare.example/b>" in block
    imported = rows_of(import_table(with_markers(block)))
    assert imported[0]["Chapter"] == normalize_cell_text(HOSTILE["chapter"])
    assert imported[0]["Guide"] == HOSTILE["guide"]
    assert imported[0]["Readings"] == normalize_cell_text(HOSTILE["readings"])
    assert imported[0]["Exercises"] == HOSTILE["exercises"].strip()
    assert imported[0]["Slides"] == HOSTILE["slides"]
    assert imported[0]["Recording"] == HOSTILE["recording"]


def test_an_unnumbered_chapter_that_looks_numbered_stays_unnumbered() -> None:
    block = render_block([session("Optional", "Session 5 - Extra")], language="en")
    assert "Session &#53; - Extra" in block
    row = rows_of(import_table(with_markers(block)))[0]
    assert (row["Session"], row["Chapter"]) == ("", "Session 5 - Extra")


# ---- markers ---------------------------------------------------------------------------------

def test_replace_block_keeps_everything_outside() -> None:
    readme = "intro\r\n" + START_MARKER + "\r\nold\r\n" + END_MARKER + "\r\ntail"
    assert replace_block(readme, "new\nlines\n") == (
        "intro\r\n" + START_MARKER + "\r\nnew\r\nlines\r\n" + END_MARKER + "\r\ntail")
    assert block_text(readme) == "old\r\n"


@pytest.mark.parametrize(("readme", "line", "words"), [
    (f"a\n{START_MARKER}\nb\n", 2, "has no"),
    (f"a\n{END_MARKER}\n{START_MARKER}\n", 2, "without"),
    (f"{START_MARKER}\n{START_MARKER}\n{END_MARKER}\n", 2, "second"),
    (f"{START_MARKER}\n{END_MARKER}\nx\n{START_MARKER}\n{END_MARKER}\n", 4, "second"),
])
def test_broken_markers_name_the_readme_and_line(readme: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as caught:
        replace_block(readme, "x\n")
    assert f"README.md line {line}:" in str(caught.value) and words in str(caught.value)
    result = plan_readme(readme, [session()], language="es")
    assert result.new_text is None and result.problems[0].severity == "error"
    assert f"line {line}" in result.problems[0].message


def test_markers_inside_code_blocks_are_documentation() -> None:
    readme = f"```\n{START_MARKER}\n```\n## Calendar\n{START_MARKER}\n{END_MARKER}\n"
    result = plan_readme(readme, [session()], language="en")
    assert result.new_text is not None and result.new_text.startswith(f"```\n{START_MARKER}\n```")
    assert "| Session 1 - Intro |" in result.new_text


def test_empty_markers_get_the_default_table() -> None:
    result = plan_readme(with_markers(""), [session()], language="es")
    assert result.new_text is not None and not result.migrated
    assert "Total de sesiones: 1\n\n| Capítulo " in result.new_text


def test_a_readme_without_a_calendar_table_is_a_problem() -> None:
    result = plan_readme("# Group\n\n## Calendar\nSoon.\n", [session()], language="es")
    assert result.new_text is None
    assert "no calendar table under a Calendario/Calendar/Schedule heading" in \
        result.problems[0].message
    assert START_MARKER in result.problems[0].fix
    assert migrate("# Group\n| a | b |\n| - | - |\n") is None  # a table, but no heading


def test_migrate_finds_a_table_under_any_calendar_heading() -> None:
    readme = "# G\n## Other\n| a |\n| - |\n# SCHEDULE (2024)\nText\n| Chapter | Date |\n" \
             "|:---|---:|\n| Session 1 - X | 20/10/2020 |"
    migrated = migrate(readme)
    assert migrated == ("# G\n## Other\n| a |\n| - |\n# SCHEDULE (2024)\nText\n"
                        f"{START_MARKER}\n| Chapter | Date |\n|:---|---:|\n| Session 1 - X | "
                        f"20/10/2020 |\n{END_MARKER}")
    style = style_of(block_text(migrated) or "")
    assert style is not None and style.total_label is None
    assert [(c.field, c.align) for c in style.columns] == [("chapter", "left"), ("when", "right")]


# ---- import ----------------------------------------------------------------------------------

SPANISH = f"""## Calendario
{START_MARKER}
Total de sesiones: 2

| Fecha/Hora | Sesión | Guía |
| --- | --- | --- |
| 20/10/2020 17:00 – 19:30 | Sesión 1 – Introducción | TBA |
| ~2020-11-03 18:00 (tentativa) | Sesión 2 – Preliminares | Ana |
| 2020-11-17 | Opcional | |
{END_MARKER}
"""


def test_import_finds_columns_by_label_and_reads_every_date_form() -> None:
    rows = rows_of(import_table(SPANISH))
    assert [(r["Session"], r["Chapter"], r["Guide"]) for r in rows] == [
        ("1", "Introducción", ""), ("2", "Preliminares", "Ana"), ("", "Opcional", "")]
    assert [(r["Date"], r["Start"], r["End"], r["Proposed date"]) for r in rows] == [
        ("2020-10-20", "17:00", "19:30", ""), ("", "", "", "2020-11-03 18:00"),
        ("2020-11-17", "", "", "")]


def test_an_imported_table_keeps_its_style() -> None:
    sessions = sessions_of(import_table(SPANISH))
    result = plan_readme(SPANISH, sessions, language="en")
    assert result.new_text is not None
    assert table_cells(result.new_text)[0] == ["Fecha/Hora", "Sesión", "Guía"]
    assert "| Sesión 1 – Introducción " in result.new_text
    assert "Total de sesiones: 2" in result.new_text
    assert "~03-11-2020 18:00 (tentative)" in result.new_text


@pytest.mark.parametrize("cell", ["32-10-2020", "soon", "20-10-2020 25:00", "20-10-2020 (x)"])
def test_an_unreadable_date_names_the_line_row_and_column(cell: str) -> None:
    readme = SPANISH.replace("2020-11-17", cell)
    with pytest.raises(InputError) as caught:
        import_table(readme)
    assert "README.md line 9, row 3, column 'Fecha/Hora'" in str(caught.value)
    assert "DD-MM-YYYY" in caught.value.fix


def test_import_without_a_table_explains_the_fix() -> None:
    with pytest.raises(InputError, match="no calendar table"):
        import_table("# Nothing here\n")


# ---- properties ------------------------------------------------------------------------------

times = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))
sessions_strategy = st.builds(
    Session, row=st.just(2),
    key=st.one_of(st.integers(0, 999).map(str), st.sampled_from(["", "Optional"])),
    chapter=cell_texts, guide=cell_texts, readings=cell_texts, exercises=cell_texts,
    date=st.none() | st.dates(), start=st.none() | times, end=st.none() | times,
    slides=cell_texts, recording=cell_texts,
    proposed=st.none() | st.builds(dt.datetime.combine, st.dates(), times))


def expected_row(s: Session) -> dict[str, str]:
    def known(text: str) -> str:
        clean = normalize_cell_text(text)
        return "" if clean.casefold() in ("tba", "tbd") else clean

    dated, timed = s.date is not None, s.date is not None and s.start is not None
    return {
        "Session": str(s.number) if s.number is not None else "",
        "Chapter": normalize_cell_text(s.chapter), "Guide": known(s.guide),
        "Readings": known(s.readings), "Exercises": known(s.exercises),
        "Date": s.date.isoformat() if s.date else "",
        "Start": s.start.strftime("%H:%M") if timed and s.start else "",
        "End": s.end.strftime("%H:%M") if timed and s.end else "",
        "Slides": known(s.slides), "Recording": known(s.recording), "Notes": "",
        "Proposed date": f"{s.proposed.date().isoformat()} {s.proposed:%H:%M}"
        if s.proposed and not dated else "",
    }


@given(st.lists(sessions_strategy, max_size=4), st.sampled_from(["es", "en"]))
def test_render_then_import_gives_the_cells_back(sessions: list[Session], language: str) -> None:
    block = render_block(sessions, language=language)
    assert all(len(split_row(line)) == 7 for line in block.splitlines() if line.startswith("|"))
    table = import_table(with_markers(block))
    expected = [expected_row(s) for s in sessions]
    assert rows_of(table) == [row for row in expected if any(row.values())]


@given(st.lists(sessions_strategy, max_size=4), st.sampled_from(["es", "en"]))
def test_render_import_render_is_identical(sessions: list[Session], language: str) -> None:
    # The Sessions sheet skips blank rows, and so a session with nothing to show.
    assume(all(any(expected_row(s).values()) for s in sessions))
    readme = plan_readme(with_markers(""), sessions, language=language).new_text
    assert readme is not None
    again = plan_readme(readme, sessions_of(import_table(readme)), language=language)
    assert again.new_text is None


surrounding = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)


@given(surrounding, st.text(max_size=30), surrounding, st.sampled_from(["\n", "\r\n"]),
       st.lists(sessions_strategy, max_size=2))
def test_replace_block_keeps_every_byte_outside_the_markers(
        before: str, old: str, after: str, newline: str, sessions: list[Session]) -> None:
    for text in (before, old, after):
        assume(START_MARKER not in text and END_MARKER not in text)
        assume("```" not in text and "~~~" not in text)
    head = f"{before}{newline}{START_MARKER}{newline}"
    tail = f"{END_MARKER}{newline}{after}"
    old_block = old if not old or old.endswith("\n") else old + newline
    readme = head + old_block + tail
    block = render_block(sessions, language="es")
    new = replace_block(readme, block)
    assert new.startswith(head) and new.endswith(tail)
    assert new[len(head):len(new) - len(tail)] == block.replace("\n", newline)


def test_import_skips_rows_with_nothing_in_them() -> None:
    readme = with_markers("| Chapter | Date |\n| --- | --- |\n|  |  |\n| Session 1 - A | |\n")
    assert [row[:2] for row in import_table(readme).rows] == [("1", "A")]
