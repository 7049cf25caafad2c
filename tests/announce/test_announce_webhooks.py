"""Posting through apprise to a real HTTP server on loopback (json:// and form://): the
payloads, a rerun posts nothing, a refusing channel consumes nothing, a timeout is `unknown`,
an interrupted post is never posted again, and a secret URL never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.announce.support import Chat, Hook, Webhooks, make_config
from tests.reminders.support import Killed, at

from formsync.announce.channels import channels
from formsync.announce.plan import Announcement
from formsync.announce.post import ApprisePoster, Outcome, classify

DAY = "2020-11-15"  # session 3 (no guide) is announced, and its call for a guide is due


def test_json_and_form_payloads_then_a_rerun_posts_nothing(tmp_path: Path,
                                                           webhooks: Webhooks) -> None:
    urls = [webhooks.url("json", "/json"), webhooks.url("form", "/form")]
    chat = Chat(tmp_path, make_config(tmp_path, urls=urls))
    _, problems = chat.run(at(DAY))
    assert problems == []
    for path in ("/json", "/form"):
        bodies = webhooks.payloads(path)
        assert [b["type"] for b in bodies] == ["info", "info"]
        assert bodies[0]["message"].startswith("La sesión 3 (Linear Neural Networks) aún no "
                                               "tiene guía\nCuándo: martes 17 de noviembre")
        assert bodies[1]["message"].startswith("Próxima sesión 3: Linear Neural Networks\n")
    json_body = webhooks.payloads("/json")[1]
    assert json_body["version"] == "1.0" and json_body["title"] == ""
    count = len(webhooks.received)
    again, problems = chat.run(at(DAY, "18:00"))
    assert (again, problems, len(webhooks.received)) == ([], [], count)
    statuses = chat.statuses()
    label = channels(chat.config.announce)[0].label
    assert statuses[("announce_next", "3", label)] == "sent"


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refusing_channel_consumes_nothing(tmp_path: Path, webhooks: Webhooks,
                                             status: int) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls=[webhooks.url("json", "/hook")]))
    webhooks.hooks["/hook"] = Hook(status)
    _, problems = chat.run(at(DAY))
    assert len(webhooks.received) == 1  # nothing more goes to a channel that refuses
    [problem] = problems
    assert problem.severity == "error" and f"HTTP {status}" in problem.message
    assert "webhook was revoked" in problem.fix and "announce.urls" in problem.fix
    assert set(chat.statuses().values()) == {"recorded", "deferred"}
    webhooks.hooks["/hook"] = Hook(200)
    planned, problems = chat.run(at(DAY, "10:30"))
    assert problems == [] and len([a for a in planned if a.text]) == 2
    assert len(webhooks.payloads("/hook")) == 3


def test_a_timeout_is_unknown_reported_and_never_posted_again(tmp_path: Path,
                                                              webhooks: Webhooks) -> None:
    url = webhooks.url("json", "/slow", rto="0.5")
    chat = Chat(tmp_path, make_config(tmp_path, urls=[url]))
    webhooks.hooks["/slow"] = Hook(200, delay=1.5)
    _, problems = chat.run(at(DAY))
    assert {p.severity for p in problems} == {"warning"}
    assert all("may or may not have been posted" in p.message for p in problems)
    assert sorted(chat.statuses().values()) == ["recorded", "unknown", "unknown"]
    count = len(webhooks.received)
    again, problems = chat.run(at(DAY, "12:00"))
    assert (again, problems, len(webhooks.received)) == ([], [], count)


def test_an_unreachable_service_defers_the_post(tmp_path: Path) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls=["json://127.0.0.1:9/hook"]))
    _, problems = chat.run(at(DAY))
    assert all("the next run tries again" in p.message for p in problems)
    assert sorted(chat.statuses().values()) == ["deferred", "deferred", "recorded"]


class _Dies:
    def post(self, announcement: Announcement) -> Outcome:
        raise Killed


def test_a_post_cut_off_by_a_killed_run_is_unknown_next_time(tmp_path: Path,
                                                            webhooks: Webhooks) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls=[webhooks.url("json", "/hook")]))
    label = channels(chat.config.announce)[0].label
    with pytest.raises(Killed):
        chat.run(at(DAY), posters={label: _Dies()})
    planned, problems = chat.run(at(DAY, "10:00"))
    assert [a.describe() for a in planned if a.recovery] == [
        f"mark the interrupted call for a guide of session 3 in {label} as unknown and "
        "report it"]
    assert [p.severity for p in problems] == ["warning"]
    assert len(webhooks.payloads("/hook")) == 1  # only the next-session announcement
    assert chat.statuses()[("announce_no_guide", "3", label)] == "unknown"


class _PostsThenDies:
    """Posts for real, then the process dies before `sent` is recorded."""

    def __init__(self, url: str) -> None:
        self.poster = ApprisePoster(url, markdown=False)

    def post(self, announcement: Announcement) -> Outcome:
        self.poster.post(announcement)
        raise Killed


def test_a_run_killed_after_posting_never_posts_it_again(tmp_path: Path,
                                                         webhooks: Webhooks) -> None:
    url = webhooks.url("json", "/hook")
    chat = Chat(tmp_path, make_config(tmp_path, urls=[url]))
    label = channels(chat.config.announce)[0].label
    with pytest.raises(Killed):
        chat.run(at(DAY), posters={label: _PostsThenDies(url)})
    assert len(webhooks.payloads("/hook")) == 1
    for hour in ("10:00", "11:00"):
        chat.run(at(DAY, hour))
    messages = [p["message"].splitlines()[0] for p in webhooks.payloads("/hook")]
    assert sorted(messages) == ["La sesión 3 (Linear Neural Networks) aún no tiene guía",
                                "Próxima sesión 3: Linear Neural Networks"]  # each once
    assert chat.statuses()[("announce_no_guide", "3", label)] == "unknown"


def test_a_secret_url_is_never_shown(tmp_path: Path, webhooks: Webhooks) -> None:
    secret = "s3cr3t-T0KEN-abcdef"
    environ = {"CHAT_HOOK": webhooks.url("json", f"/hooks/{secret}")}
    chat = Chat(tmp_path, make_config(tmp_path, urls_env=["CHAT_HOOK"]), environ)
    webhooks.hooks[f"/hooks/{secret}"] = Hook(403)
    planned, problems = chat.run(at(DAY))
    shown = " ".join([*(a.describe() for a in planned), *(str(p) for p in problems)])
    assert "env:chat_hook" in shown and "CHAT_HOOK" in shown
    assert secret not in shown and secret not in (tmp_path / "Reminders.csv").read_text()


def test_a_missing_secret_is_one_problem_and_posts_nothing(tmp_path: Path) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls_env=["CHAT_HOOK"]))
    planned, problems = chat.run(at(DAY))
    assert planned == []
    assert [p.message for p in problems] == [
        "the channel env:chat_hook has no URL: the environment variable CHAT_HOOK is not set"]


@pytest.mark.parametrize(("log", "status", "code"), [
    ("Failed to send JSON POST notification: Unauthorized - error=401.", "deferred", 401),
    ("Failed to send Discord notification: error=503.", "deferred", 503),
    ("Socket Exception: HTTPConnectionPool: Read timed out. (read timeout=4)", "unknown", None),
    ("Socket Exception: NewConnectionError: [Errno 111] Connection refused", "deferred", None),
])
def test_what_apprise_logged_decides_the_status(log: str, status: str, code: int | None
                                               ) -> None:
    outcome = classify(log)
    assert (outcome.status, outcome.code) == (status, code)
