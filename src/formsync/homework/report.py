"""`formsync report`: the term's homework for organizers, as report.html (one self-contained
file: a heat-map table with totals, the trend per session, and attendance when Members records
it in 'Asistencia N' / 'Attendance N' columns) and report.csv (one row per member and session).
pandas does the tabulation (pivot, totals, per-session counts); only this command imports it,
never `sync` or `--help`."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from formsync.columns import MEMBER_ALIASES, fold, locate
from formsync.config import Config
from formsync.homework.matrix import Homework, read_homework
from formsync.local.files import write_if_changed
from formsync.members import normalise_email
from formsync.model import MEMBERS, SESSIONS, SUBMISSIONS, Member, Snapshot, Table
from formsync.names import session_ident, topic
from formsync.ports import SheetsBackend
from formsync.step import PlanContext

ON_TIME, LATE, MISSING = "on time", "late", "missing"
SCORE = {ON_TIME: 1.0, LATE: 0.5, MISSING: 0.0}
COLOURS = {ON_TIME: "#2e7d32", LATE: "#f9a825", MISSING: "#eeeeee"}
WORDS = {"es": {ON_TIME: "✓", LATE: "tarde", MISSING: "", "title": "Informe del periodo",
                "homework": "Ejercicios entregados", "trend": "Entregas por sesión",
                "member": "Miembro", "total": "Total", "session": "Sesión",
                "rate": "% de miembros", "none": "Aún no hay entregas.",
                "legend": "a tiempo|tarde|sin entrega", "attendance": "Asistencia"},
         "en": {ON_TIME: "✓", LATE: "late", MISSING: "", "title": "Term report",
                "homework": "Homework handed in", "trend": "Submissions per session",
                "member": "Member", "total": "Total", "session": "Session",
                "rate": "% of members", "none": "No submissions yet.",
                "legend": "on time|late|missing", "attendance": "Attendance"}}
SHEETS = (MEMBERS, SESSIONS, SUBMISSIONS)  # what the report reads
_ATTENDANCE = re.compile(r"^(?:attendance|asistencia)\s+(?:session\s+|sesion\s+)?(\S.*)$")
_ABSENT = frozenset({"", "no", "0", "-", "ausente", "absent", "falta", "false"})


@dataclass(frozen=True)
class TermReport:
    long: pd.DataFrame  # one row per member and session: Email, Name, Session, Status, ...
    matrix: pd.DataFrame  # members × sessions of statuses, with a Total column
    trend: pd.DataFrame  # per session: Session, Chapter, on time, late, missing, rate
    attendance: pd.DataFrame  # per session recorded: Session, attended, rate (may be empty)


def read_attendance(table: Table | None, overrides: Mapping[str, str]) -> dict[str, set[str]]:
    """Attendance as recorded in Members: a column 'Asistencia 3' / 'Attendance 3' per session,
    a mark (x, ✓, sí, 1) where the member attended. Session ident → emails."""
    if table is None:
        return {}
    email = locate(table, MEMBER_ALIASES, overrides)
    found: dict[str, set[str]] = {}
    for position, header in enumerate(table.header):
        match = _ATTENDANCE.match(fold(header))
        if match is None:
            continue
        found[match.group(1)] = {
            normalise_email(email.get(row, "Email")) for row in table.rows
            if position < len(row) and fold(row[position]) not in _ABSENT}
    return found


def build_report(homework: Homework, members: Sequence[Member],
                 attended: Mapping[str, set[str]] | None = None) -> TermReport:
    attended = attended or {}
    rows = []
    for session in homework.sessions:
        ident = session_ident(session)
        for member in members:
            found = homework.submissions.get((member.email, ident))
            status = MISSING if found is None else LATE if homework.is_late(found) else ON_TIME
            present = ("" if ident not in attended else
                       "yes" if member.email in attended[ident] else "no")
            rows.append({"Email": member.email, "Name": member.name or member.email,
                         "Session": ident, "Chapter": topic(session), "Status": status,
                         "Link": found.link if found else "",
                         "Submitted": found.first.isoformat(timespec="minutes") if found else "",
                         "Attended": present})
    long = pd.DataFrame(rows, columns=["Email", "Name", "Session", "Chapter", "Status", "Link",
                                       "Submitted", "Attended"])
    return TermReport(long, _matrix(long), _trend(long, len(members)),
                      _attendance(attended, members))


def _attendance(attended: Mapping[str, set[str]], members: Sequence[Member]) -> pd.DataFrame:
    emails = {m.email for m in members}
    counts = pd.Series({ident: len(who & emails) for ident, who in attended.items()},
                       dtype="int64", name="attended")
    frame = counts.rename_axis("Session").reset_index()
    frame["rate"] = (100 * frame["attended"] / len(emails)).round(0) if emails else 0
    return frame


def _matrix(long: pd.DataFrame) -> pd.DataFrame:
    order = list(dict.fromkeys(long["Session"]))
    matrix = long.pivot(index=["Email", "Name"], columns="Session", values="Status")
    matrix = matrix.reindex(columns=order)
    matrix["Total"] = (matrix != MISSING).sum(axis=1)
    return matrix.sort_values("Total", ascending=False, kind="stable")


def _trend(long: pd.DataFrame, members: int) -> pd.DataFrame:
    counts = pd.crosstab([long["Session"], long["Chapter"]], long["Status"])
    counts = counts.reindex(columns=[ON_TIME, LATE, MISSING], fill_value=0)
    order = list(dict.fromkeys(long["Session"]))
    counts = counts.reset_index().set_index("Session").reindex(order).reset_index()
    handed = counts[ON_TIME] + counts[LATE]
    counts["rate"] = (100 * handed / members).round(0) if members else 0
    return counts


# ---------------------------------------------------------------------------------------------
# Files


def render_csv(report: TermReport) -> str:
    return str(report.long.to_csv(index=False, lineterminator="\n"))


def render_html(report: TermReport, links: dict[tuple[str, str], str], *, group: str,
                language: str, now: dt.datetime) -> str:
    words = WORDS.get(language, WORDS["en"])
    body = (_heat_map(report, links, words) + _trend_svg(report.trend, words)
            if not report.long.empty else f"<p>{words['none']}</p>")
    body += _attendance_table(report.attendance, words)
    title = f"{html.escape(group)} · {words['title']}"
    return f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_CSS}</style></head>
<body><h1>{title}</h1><p class="when">{now.strftime('%Y-%m-%d %H:%M')}</p>
{body}</body></html>
"""


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem;margin-bottom:0}.when{color:#666;margin-top:.2rem}
table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #ccc;padding:.3rem .5rem}
th{background:#f5f5f5;position:sticky;top:0}td.mark{text-align:center;min-width:3.5rem}
td.mark a{color:inherit;text-decoration:none;display:block}
td.total,tr.total td{font-weight:600;text-align:center;background:#fafafa}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.5rem;border-radius:3px}
svg text{font-size:11px;font-family:inherit}
"""


def _heat_map(report: TermReport, links: dict[tuple[str, str], str],
              words: dict[str, str]) -> str:
    sessions = [c for c in report.matrix.columns if c != "Total"]
    head = "".join(f"<th>{html.escape(words['session'])} {html.escape(str(s))}</th>"
                   for s in sessions)
    lines = [f"<h2>{words['homework']}</h2>", _legend(words),
             f"<table><thead><tr><th>{words['member']}</th>{head}"
             f"<th>{words['total']}</th></tr></thead><tbody>"]
    for row in report.matrix.reset_index().to_dict("records"):
        email, name = str(row["Email"]), str(row["Name"])
        cells = "".join(_mark(row[s], links.get((email, s), ""), words) for s in sessions)
        lines.append(f"<tr><td title=\"{html.escape(email)}\">{html.escape(name)}</td>{cells}"
                     f"<td class=\"total\">{row['Total']}</td></tr>")
    totals = (report.matrix[sessions] != MISSING).sum()
    cells = "".join(f"<td>{totals[s]}</td>" for s in sessions)
    lines.append(f"<tr class=\"total\"><td>{words['total']}</td>{cells}"
                 f"<td>{int(totals.sum())}</td></tr></tbody></table>")
    return "\n".join(lines)


def _legend(words: dict[str, str]) -> str:
    statuses = (ON_TIME, LATE, MISSING)
    labels = dict(zip(statuses, words["legend"].split("|"), strict=True))
    spans = "".join(f"<span style=\"background:{COLOURS[s]};color:{_ink(s)}\">"
                    f"{html.escape(labels[s])}</span>" for s in statuses)
    return f"<p class=\"legend\">{spans}</p>"


def _ink(status: str) -> str:
    return "#fff" if status == ON_TIME else "#222"


def _mark(status: str, link: str, words: dict[str, str]) -> str:
    text = html.escape(words[status])
    if link:
        text = f"<a href=\"{html.escape(link)}\">{text}</a>"
    return (f"<td class=\"mark\" style=\"background:{COLOURS[status]};color:{_ink(status)}\">"
            f"{text}</td>")


def _attendance_table(attendance: pd.DataFrame, words: dict[str, str]) -> str:
    if attendance.empty:
        return ""
    rows = "".join(f"<tr><td>{html.escape(words['session'])} {html.escape(str(r['Session']))}"
                   f"</td><td class=\"total\">{r['attended']}</td>"
                   f"<td class=\"total\">{int(r['rate'])}%</td></tr>"
                   for r in attendance.to_dict("records"))
    return (f"<h2>{words['attendance']}</h2><table><thead><tr><th>{words['session']}</th>"
            f"<th>{words['attendance']}</th><th>{words['rate']}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _trend_svg(trend: pd.DataFrame, words: dict[str, str]) -> str:
    """Stacked bars (on time, late) per session, drawn inline: no script, no external file."""
    bar, gap, height, top = 64, 16, 160, 20
    most = max(1, int((trend[ON_TIME] + trend[LATE]).max()))
    width = len(trend) * (bar + gap) + gap
    parts = [f"<h2>{words['trend']}</h2>", f"<p class=\"when\">({words['rate']})</p>",
             f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" "
             f"height=\"{height + top + 40}\" role=\"img\">"]
    for index, values in enumerate(trend.to_dict("records")):
        x = gap + index * (bar + gap)
        on_time, late = int(values[ON_TIME]), int(values[LATE])
        base: float = top + height
        for count, status in ((on_time, ON_TIME), (late, LATE)):
            tall = height * count / most
            base -= tall
            parts.append(f"<rect x=\"{x}\" y=\"{base:.1f}\" width=\"{bar}\" "
                         f"height=\"{tall:.1f}\" fill=\"{COLOURS[status]}\"/>")
        parts.append(f"<text x=\"{x + bar / 2}\" y=\"{base - 4:.1f}\" text-anchor=\"middle\">"
                     f"{on_time + late} ({int(values['rate'])}%)</text>")
        label = f"{words['session']} {values['Session']}"
        parts.append(f"<text x=\"{x + bar / 2}\" y=\"{top + height + 16}\" "
                     f"text-anchor=\"middle\">{html.escape(label)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def read_report(config: Config, sheets: SheetsBackend, now: dt.datetime
                ) -> tuple[TermReport, dict[tuple[str, str], str]]:
    tables = sheets.read_many(SHEETS)
    snapshot = Snapshot(members=tables.get(MEMBERS), sessions=tables.get(SESSIONS),
                        others={SUBMISSIONS: tables.get(SUBMISSIONS)})
    context = PlanContext.start(snapshot, config, now)
    homework, _ = read_homework(context)
    if homework is None:
        homework = Homework((), {}, {})
    links = {key: found.link for key, found in homework.submissions.items()}
    attended = read_attendance(tables.get(MEMBERS), config.columns)
    return build_report(homework, context.members, attended), links


def write_report(config: Config, sheets: SheetsBackend, now: dt.datetime, folder: Path
                 ) -> list[Path]:
    report, links = read_report(config, sheets, now)
    html_path, csv_path = folder / "report.html", folder / "report.csv"
    write_if_changed(html_path, render_html(report, links, group=config.group.name,
                                            language=config.group.language, now=now))
    write_if_changed(csv_path, render_csv(report))
    return [html_path, csv_path]
