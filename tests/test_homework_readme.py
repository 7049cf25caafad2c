"""The README's homework counts: per session, between their own markers, never names."""

from __future__ import annotations

from tests.helpers import config, table
from tests.test_homework import MEMBERS_CSV, NOW, SESSIONS_CSV, SUBMISSIONS_CSV

from formsync.homework.readme import END, START, with_counts
from formsync.model import MEMBERS, SESSIONS, SUBMISSIONS, Snapshot
from formsync.step import PlanContext

README = f"# Grupo\n\n## Entregas\n{START}\nold\n{END}\nTexto final.\n"


def context(*, on: bool = True, read: bool = True) -> PlanContext:
    others = {SUBMISSIONS: table(SUBMISSIONS, SUBMISSIONS_CSV)} if read else {}
    snapshot = Snapshot(members=table(MEMBERS, MEMBERS_CSV),
                        sessions=table(SESSIONS, SESSIONS_CSV), others=others)
    settings = config(group={"timezone": "America/Mexico_City"},
                      homework={"readme_counts": on})
    return PlanContext.start(snapshot, settings, NOW)


def test_counts_go_between_the_markers_without_names() -> None:
    text, problems = with_counts(README, context(), "README.md")
    assert problems == []
    assert text == (f"# Grupo\n\n## Entregas\n{START}\n| Sesión | Entregas |\n| --- | --- |\n"
                    "| 1 | 2 entregas |\n| 3 | 2 entregas |\n| 4 | 0 entregas |\n"
                    f"{END}\nTexto final.\n")
    assert "@" not in text and "Ana" not in text
    assert with_counts(text, context(), "README.md") == (text, [])  # a second run: the same


def test_off_by_default_and_untouched_when_not_read() -> None:
    assert with_counts(README, context(on=False), "README.md") == (README, [])
    assert with_counts(README, context(read=False), "README.md") == (README, [])


def test_missing_markers_are_a_problem_not_an_edit() -> None:
    text, (problem,) = with_counts("# Grupo\n", context(), "README.md")
    assert text == "# Grupo\n"
    assert problem.sheet == "README.md" and START in problem.fix
