"""Small builders shared by the core tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from formsync.config import Config, parse_config
from formsync.model import Table

SPANISH_FORM = ("Marca temporal", "Dirección de correo electrónico", "Nombre completo",
                "¿Te gustaría ser guía de alguna sesión?", "Idioma preferido")


def table(name: str, text: str) -> Table:
    rows = list(csv.reader(io.StringIO(text.strip("\n"))))
    return Table(name, tuple(rows[0]), tuple(tuple(r) for r in rows[1:]))


def config(**sections: dict[str, object]) -> Config:
    return parse_config(dict(sections), Path())
