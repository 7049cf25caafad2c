"""What a run tells the GitHub Actions step around it: `changed` and `problems` as step outputs
(appended to $GITHUB_OUTPUT), which the formsync action (action.yml) passes on as its own."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formsync.sync import Report


def step_outputs(report: Report) -> dict[str, str]:
    changed = not report.plan.is_empty() or report.listing.edit is not None \
        or bool(report.digests)
    return {"changed": "true" if changed and report.applied else "false",
            "problems": str(len(report.problems))}


def write_step_outputs(report: Report) -> str | None:
    """Append the outputs to $GITHUB_OUTPUT; outside an Action, do nothing. A warning on failure:
    the run itself went as reported."""
    target = os.environ.get("GITHUB_OUTPUT", "").strip()
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as out:
            out.writelines(f"{key}={value}\n" for key, value in step_outputs(report).items())
    except OSError as error:
        return f"warning: cannot write the step outputs {target}: {error.strerror or error}"
    return None
