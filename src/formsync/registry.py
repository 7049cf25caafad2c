"""The steps of a sync, once, in the order they plan and apply.

Adding a step: write its module, with its pure plan function and a `SYNC_STEP = Step(...)`
(see formsync.step), then add one line below. The modules are imported only when the steps are
needed, so `formsync --help` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formsync.step import Step

_STEPS = (
    ("members", "formsync.members"),
    ("sessions", "formsync.sessions"),
    ("homework", "formsync.homework.matrix"),
    ("readme", "formsync.readme"),
    ("calendar", "formsync.calendar.step"),
    ("reminders", "formsync.reminders.step"),
    ("announce", "formsync.announce.step"),
)
STEP_NAMES = tuple(name for name, _ in _STEPS)


def steps() -> tuple[Step, ...]:
    from formsync.step import Step

    found = []
    for name, module in _STEPS:
        step = importlib.import_module(module).SYNC_STEP
        assert isinstance(step, Step) and step.name == name, module
        found.append(step)
    return tuple(found)
