"""The README's homework counts: submissions per session between their own markers, never
names (the README is public). Off unless `[homework] readme_counts = true`."""

from __future__ import annotations

from collections import Counter

from formsync.homework.matrix import Homework, read_homework
from formsync.model import SUBMISSIONS, Problem
from formsync.names import session_ident
from formsync.step import PlanContext

START = "<!-- formsync:homework:start -->"
END = "<!-- formsync:homework:end -->"
STEP = "readme"
WORDS = {"es": ("Sesión", "Entregas", "entrega", "entregas"),
         "en": ("Session", "Submissions", "submission", "submissions")}


def render_counts(homework: Homework, language: str, newline: str = "\n") -> str:
    session, title, one, many = WORDS.get(language, WORDS["en"])
    lines = [f"| {session} | {title} |", "| --- | --- |"]
    counts = Counter(ident for _, ident in homework.submissions)
    for found in homework.sessions:
        ident = session_ident(found)
        count = counts[ident]
        lines.append(f"| {ident} | {count} {one if count == 1 else many} |")
    return newline.join(lines) + newline


def with_counts(text: str, context: PlanContext, name: str) -> tuple[str, list[Problem]]:
    """`text` with the block between the homework markers rewritten (as it was when the
    option is off or the submissions were not read in this run)."""
    if not context.config.homework.readme_counts or SUBMISSIONS not in context.tables:
        return text, []
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start or text.count(START) > 1 or text.count(END) > 1:
        return text, [Problem(STEP, "homework.readme_counts is on but the README has no "
                                    "homework markers", sheet=name, fix=(
            f"add {START} and {END}, each on its own line, where the counts go (or set "
            "[homework] readme_counts = false)"))]
    homework, _ = read_homework(context)  # its problems are the homework step's to report
    if homework is None:
        return text, []
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = start + len(START)
    block = newline + render_counts(homework, context.config.group.language, newline)
    return text[:body_start] + block + text[end:], []
