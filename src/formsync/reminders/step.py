"""The reminders step: plan what is due from the ledger, send it exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from formsync.actions import StepPlan
from formsync.model import REMINDERS, SUBMISSIONS, Problem
from formsync.reminders.ledger import LedgerKey
from formsync.reminders.plan import REVIEW, STEP, DraftSweep, Reminder, plan_reminders
from formsync.step import ApplyContext, PlanContext, Step


def _plan_step(context: PlanContext) -> StepPlan:
    handed_in = _handed_in(context)
    due, problems = plan_reminders(context.sessions, context.members,
                                   context.tables.get(REMINDERS), context.config, context.now,
                                   handed_in=handed_in)
    return StepPlan(STEP, actions=tuple(due), problems=tuple(problems))


def _handed_in(context: PlanContext) -> set[tuple[str, str]] | None:
    """(email, session) of the homework handed in; None without a homework Form."""
    if not context.config.homework.configured(context.config.backend.kind):
        return None
    from formsync.homework.matrix import read_homework

    homework, _ = read_homework(context)
    return set(homework.submissions) if homework else set()


def _apply_step(result: StepPlan, context: ApplyContext) -> list[Problem]:
    from formsync.reminders.send import send_reminders

    if context.places.mail is None:
        return []
    actions = [a for a in result.actions if isinstance(a, Reminder | DraftSweep)]
    return send_reminders(actions, context.plan.sessions, context.plan.members, context.config,
                          context.places.sheets, context.places.mail, context.now,
                          ledger=context.snapshot.reminders, extras=_review_lists(actions, context))


def _review_lists(actions: Sequence[Reminder | DraftSweep], context: ApplyContext
                  ) -> dict[LedgerKey, dict[str, object]]:
    """Each guide's list: names and links of the submissions for the session, by name."""
    reviews = [a for a in actions if isinstance(a, Reminder) and a.kind == REVIEW]
    if not reviews:
        return {}
    from formsync.homework.matrix import read_homework

    homework, _ = read_homework(PlanContext.start(context.snapshot, context.config,
                                                  context.now))
    names = {m.email: m.name for m in context.plan.members}
    found = homework.submissions.values() if homework else ()
    lists: dict[LedgerKey, dict[str, object]] = {}
    for review in reviews:
        items = [{"name": names.get(s.email) or s.email, "email": s.email, "link": s.link,
                  "late": homework is not None and homework.is_late(s)}
                 for s in found if s.session == review.session]
        lists[review.key] = {"submissions": sorted(items, key=lambda i: str(i["name"]))}
    return lists


SYNC_STEP = Step(STEP, _plan_step, reads=(REMINDERS, SUBMISSIONS), apply=_apply_step,
                 enabled=lambda config: config.reminders.enabled)
