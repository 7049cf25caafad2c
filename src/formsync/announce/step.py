"""The announce step: plan the posts due in each chat channel, post each exactly once."""

from __future__ import annotations

import os

from formsync.actions import StepPlan
from formsync.announce.channels import channels
from formsync.announce.plan import STEP, Announcement, plan_announcements
from formsync.model import REMINDERS, Problem
from formsync.step import ApplyContext, PlanContext, Step


def _plan_step(context: PlanContext) -> StepPlan:
    # Only each env URL's scheme is read here (it sets the message's format and length).
    found = channels(context.config.announce, os.environ)
    due, problems = plan_announcements(context.sessions, context.tables.get(REMINDERS),
                                       context.config, found, context.now)
    return StepPlan(STEP, actions=tuple(due), problems=tuple(problems))


def _apply_step(result: StepPlan, context: ApplyContext) -> list[Problem]:
    from formsync.announce.post import post_announcements

    actions = [a for a in result.actions if isinstance(a, Announcement)]
    return post_announcements(actions, channels(context.config.announce, os.environ),
                              context.config, context.places.sheets, context.now,
                              ledger=context.snapshot.reminders, environ=os.environ)


SYNC_STEP = Step(STEP, _plan_step, reads=(REMINDERS,), apply=_apply_step,
                 enabled=lambda config: config.announce.configured())
