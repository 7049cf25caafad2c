"""Finding columns by header: English or Spanish names, accents and case ignored, overridable."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from formsync.model import Problem, Table

SESSION_ALIASES: dict[str, tuple[str, ...]] = {
    "Session": ("Session", "Sesión", "Sesion", "#", "No."),
    "Chapter": ("Chapter", "Capítulo", "Tema", "Topic"),
    "Guide": ("Guide", "Guía", "Guia"),
    "Readings": ("Readings", "Lecturas", "Suggested Readings", "Lecturas sugeridas"),
    "Exercises": ("Exercises", "Ejercicios", "Homework", "Tarea"),
    "Date": ("Date", "Fecha"),
    "Start": ("Start", "Inicio", "Hora de inicio"),
    "End": ("End", "Fin", "Hora de fin"),
    "Slides": ("Slides", "Slides/Notebook", "Diapositivas"),
    "Recording": ("Recording", "Grabación", "Grabacion", "Video"),
    "Notes": ("Notes", "Notas"),
    "Proposed date": ("Proposed date", "Fecha propuesta"),
}

MEMBER_ALIASES: dict[str, tuple[str, ...]] = {
    "Email": ("Email", "Correo", "Correo electrónico"),
    "Name": ("Name", "Nombre"),
    "Registered": ("Registered", "Registro"),
    "Updated": ("Updated", "Actualizado"),
    "Status": ("Status", "Estado"),
    "Guide volunteer": ("Guide volunteer", "Voluntario guía"),
    "Language": ("Language", "Idioma"),
    "Notes": ("Notes", "Notas"),
}

# Form questions: exact headers first, then words a question about the same thing contains.
RESPONSE_ALIASES: dict[str, tuple[str, ...]] = {
    "Timestamp": ("Timestamp", "Marca temporal", "Marca de tiempo"),
    "Email": ("Email Address", "Dirección de correo electrónico", "Correo electrónico",
              "Email", "E-mail", "Correo", "Dirección de correo"),
    "Name": ("Name", "Nombre", "Nombre completo", "Full name", "Your name", "Tu nombre"),
}
RESPONSE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Guide volunteer": ("guia", "guide"),
    "Language": ("idioma", "language", "lengua"),
}


def fold(text: str) -> str:
    """Case-, accent- and space-insensitive form of a header."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass(frozen=True)
class Columns:
    """Where each known column sits in one table."""

    table: Table
    index: Mapping[str, int]

    def get(self, row: Sequence[str], name: str) -> str:
        at = self.index.get(name)
        return row[at].strip() if at is not None and at < len(row) else ""

    def has(self, name: str) -> bool:
        return name in self.index

    def header_of(self, name: str) -> str:
        return self.table.header[self.index[name]]


def locate(table: Table, aliases: Mapping[str, Sequence[str]],
           overrides: Mapping[str, str] | None = None,
           keywords: Mapping[str, Sequence[str]] | None = None) -> Columns:
    """Map canonical column names to positions; the first matching header wins."""
    folded = [fold(h) for h in table.header]
    index: dict[str, int] = {}
    for name, names in aliases.items():
        wanted = [fold(overrides[name])] if overrides and overrides.get(name) else [
            fold(n) for n in names]
        for candidate in wanted:
            if candidate in folded:
                index[name] = folded.index(candidate)
                break
    for name, words in (keywords or {}).items():
        if overrides and overrides.get(name):
            if fold(overrides[name]) in folded:
                index[name] = folded.index(fold(overrides[name]))
            continue
        for position, header in enumerate(folded):
            if position not in index.values() and any(w in header for w in words):
                index[name] = position
                break
    return Columns(table, index)


def column_letter(position: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as a spreadsheet names its columns)."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def header_problems(columns: Columns, aliases: Mapping[str, Sequence[str]], *, step: str,
                    expected: Mapping[str, str]) -> list[Problem]:
    """Warnings for a header a person renamed or doubled. `expected` maps each column worth
    warning about when missing to what then happens ("every session reads as undated")."""
    problems = []
    folded = [fold(h) for h in columns.table.header]
    sheet = columns.table.name
    for name, position in sorted(columns.index.items(), key=lambda item: item[1]):
        twins = [i for i, h in enumerate(folded) if h == folded[position]]
        if len(twins) > 1:
            places = " and ".join(column_letter(i) for i in twins)
            problems.append(Problem(
                step, f"{len(twins)} columns are named {columns.header_of(name)!r} ({places}); "
                      f"formsync reads {column_letter(position)}", sheet=sheet, row=1,
                fix="rename or delete the other one"))
    for name, consequence in expected.items():
        if not columns.has(name):
            names = ", ".join(repr(n) for n in aliases[name][:3])
            problems.append(Problem(
                step, f"no {name!r} column ({consequence})", sheet=sheet, row=1,
                fix=f"name a column {names}, or set [columns] {name} = \"your header\" in "
                    "formsync.toml"))
    return problems
