"""The calendar step: plan events from the sessions, apply them through the run's calendar."""

from __future__ import annotations

from formsync.actions import StepPlan
from formsync.calendar.plan import STEP, CalendarAction, plan_calendar
from formsync.model import Problem
from formsync.step import ApplyContext, PlanContext, Step


def _plan_step(context: PlanContext) -> StepPlan:
    actions, problems = plan_calendar(context.sessions, context.members,
                                      context.snapshot.events, context.config, context.now,
                                      force=context.force)
    return StepPlan(STEP, actions=tuple(actions), problems=tuple(problems))


def _apply_step(result: StepPlan, context: ApplyContext) -> list[Problem]:
    if context.places.calendar is None:
        return []
    actions = [a for a in result.actions if isinstance(a, CalendarAction)]
    return context.places.calendar.apply(actions, context.now)


SYNC_STEP = Step(STEP, _plan_step, apply=_apply_step,
                 enabled=lambda config: config.calendar.enabled)
