"""The reminders step: plan what is due from the ledger, send it exactly once."""

from __future__ import annotations

from formsync.actions import StepPlan
from formsync.model import REMINDERS, Problem
from formsync.reminders.plan import STEP, DraftSweep, Reminder, plan_reminders
from formsync.step import ApplyContext, PlanContext, Step


def _plan_step(context: PlanContext) -> StepPlan:
    due, problems = plan_reminders(context.sessions, context.members,
                                   context.tables.get(REMINDERS), context.config, context.now)
    return StepPlan(STEP, actions=tuple(due), problems=tuple(problems))


def _apply_step(result: StepPlan, context: ApplyContext) -> list[Problem]:
    from formsync.reminders.send import send_reminders

    if context.places.mail is None:
        return []
    actions = [a for a in result.actions if isinstance(a, Reminder | DraftSweep)]
    return send_reminders(actions, context.plan.sessions, context.plan.members, context.config,
                          context.places.sheets, context.places.mail, context.now,
                          ledger=context.snapshot.reminders)


SYNC_STEP = Step(STEP, _plan_step, reads=(REMINDERS,), apply=_apply_step,
                 enabled=lambda config: config.reminders.enabled)
