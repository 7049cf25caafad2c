"""Small builders shared by the core tests."""

from __future__ import annotations

import csv
import importlib.machinery
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

from formsync.config import Config, parse_config
from formsync.model import REMINDERS, Table
from formsync.ports import SheetsBackend

SPANISH_FORM = ("Marca temporal", "Dirección de correo electrónico", "Nombre completo",
                "¿Te gustaría ser guía de alguna sesión?", "Idioma preferido")


def table(name: str, text: str) -> Table:
    rows = list(csv.reader(io.StringIO(text.strip("\n"))))
    return Table(name, tuple(rows[0]), tuple(tuple(r) for r in rows[1:]))


def config(**sections: dict[str, object]) -> Config:
    return parse_config(dict(sections), Path())


def load_fault_matrix() -> ModuleType:
    """scripts/fault-matrix as a module (it is a script: no .py), loaded once."""
    name = "fault_matrix"
    if name in sys.modules:
        return sys.modules[name]
    script = Path(__file__).resolve().parents[1] / "scripts" / "fault-matrix"
    loader = importlib.machinery.SourceFileLoader(name, str(script))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it is executing
    loader.exec_module(module)
    return module


def ledger_rows(sheets: SheetsBackend) -> list[dict[str, str]]:
    """The Reminders ledger as read, one dict per row."""
    table = sheets.read_many([REMINDERS]).get(REMINDERS)
    if table is None:
        return []
    return [dict(zip(table.header, row, strict=False)) for row in table.rows]


def ledger_statuses(sheets: SheetsBackend) -> dict[tuple[str, str, str], str]:
    """The status that counts for each (kind, session, recipient), as formsync reads it."""
    from formsync.reminders.ledger import read_ledger

    entries = read_ledger(sheets.read_many([REMINDERS]).get(REMINDERS))
    return {(k.kind, k.session, k.recipient): e.status for k, e in entries.items()}
