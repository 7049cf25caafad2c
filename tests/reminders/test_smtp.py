"""The SMTP transport against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

from tests.reminders.support import ORGANIZERS, Group, SmtpServer, at, body, free_port, make_config

from formsync.config import Smtp
from formsync.reminders.transports import SmtpTransport

BOB, ANA = "bob@example.org", "ana@example.org"
READING_1 = "1 @ 2020-10-20 17:00"  # the reading reminder's key records the start it announces


def smtp_group(group: Group, server: SmtpServer) -> SmtpTransport:
    group.config = make_config(group.root, **server.settings())
    group.run(at("2020-10-05"), SmtpTransport(group.config.reminders.smtp))  # setup row
    return SmtpTransport(group.config.reminders.smtp)


def test_one_bad_address_does_not_stop_the_others(group: Group,
                                                   smtp_server: SmtpServer) -> None:
    smtp = smtp_group(group, smtp_server)
    smtp_server.mailbox.refuse = {BOB: "550 5.1.1 <bob@example.org>: user unknown",
                                  ANA: "451 4.3.0 mailbox busy, try later"}
    _, problems = group.run(at("2020-10-18"), smtp, batch_size=2)
    got = smtp_server.mailbox.recipients()
    assert BOB not in got and ANA not in got and set(ORGANIZERS) <= set(got)
    statuses = group.statuses()
    assert statuses[("reading", READING_1, BOB)] == "failed"
    assert statuses[("reading", READING_1, ANA)] == "deferred"
    bob = next(p for p in problems if BOB in p.message)
    assert "SMTP 550 5.1.1 <bob@example.org>: user unknown" in bob.message
    assert bob.severity == "error" and "not be retried" in bob.message
    detail = next(r["Detail"] for r in group.ledger() if r["Recipient"] == BOB)
    assert detail.startswith("SMTP 550")

    # Next run: the transient refusal is retried, the permanent one is not.
    smtp_server.mailbox.refuse = {}
    reminders, _ = group.run(at("2020-10-18", "10:30"), smtp)
    assert [(r.kind, r.recipient) for r in reminders] == [("reading", ANA)]
    assert group.statuses()[("reading", READING_1, ANA)] == "sent"
    assert BOB not in smtp_server.mailbox.recipients()


def test_a_reply_about_the_account_mid_batch_keeps_every_unsent_reminder_due(
        group: Group, smtp_server: SmtpServer) -> None:
    """421 (service not available) and 530/535 (authentication) are about the account or the
    server (RFC 5321 §4.2.3, RFC 4954 §6): nothing is marked failed, the run stops, and the
    next run sends what is left, once."""
    smtp = smtp_group(group, smtp_server)
    smtp_server.mailbox.refuse = {ANA: "421 4.7.0 Try again later, closing connection"}
    _, problems = group.run(at("2020-10-18"), smtp)
    assert "failed" not in group.statuses().values()
    assert any("refused to send for this account" in p.message for p in problems)
    first = smtp_server.mailbox.recipients()
    assert ANA not in first

    smtp_server.mailbox.refuse = {}
    group.run(at("2020-10-18", "10:30"), smtp)
    assert ANA in smtp_server.mailbox.recipients()
    ids = [str(r.message["Message-ID"]) for r in smtp_server.mailbox.received]
    assert len(ids) == len(set(ids)) == 5  # each reminder once
    assert set(group.statuses().values()) <= {"sent", "recorded"}


def test_crlf_in_a_name_or_chapter_cannot_inject_headers(group: Group,
                                                        smtp_server: SmtpServer) -> None:
    import dataclasses

    from tests.reminders.support import member

    smtp = smtp_group(group, smtp_server)
    group.members = [member("eve@example.org", "Eve\r\nBcc: victim@evil.example\r\n",
                            registered="2020-10-01T10:00:00-05:00", language="en")]
    group.sessions[0] = dataclasses.replace(
        group.sessions[0], chapter="Intro\nBcc: victim@evil.example\r\nX-Injected: 1")
    group.run(at("2020-10-18"), smtp)
    [received] = smtp_server.mailbox.received
    assert received.rcpt_tos == ["eve@example.org"]
    message = received.message
    assert sorted(message.keys()) == sorted([
        "From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "Auto-Submitted",
        "Content-Type", "MIME-Version"])
    assert str(message["Subject"]) == \
        "Session 1 – Intro Bcc: victim@evil.example X-Injected: 1"
    head = received.data.split(b"\r\n\r\n")[0]
    assert b"\nBcc:" not in head and b"\nX-Injected" not in head
    assert "Hi Eve Bcc: victim@evil.example," in body(message)


def test_an_unreachable_server_sends_nothing_and_records_nothing(group: Group) -> None:
    group.config = make_config(group.root, transport="smtp",
                               smtp={"host": "127.0.0.1", "port": free_port(),
                                     "security": "none", "timeout_seconds": 2})
    smtp = SmtpTransport(group.config.reminders.smtp)
    group.run(at("2020-10-05"), smtp)
    _, problems = group.run(at("2020-10-18"), smtp)
    assert any("cannot reach the SMTP server" in p.message for p in problems)
    assert set(group.statuses().values()) == {"recorded"}  # no pending rows left behind


def test_the_password_comes_from_the_environment_and_is_never_shown() -> None:
    settings = Smtp(host="smtp.example.org", username="grupo", password_env="MY_SMTP_PW")
    transport = SmtpTransport.from_config(settings, {"MY_SMTP_PW": "s3cret-value"})
    assert "s3cret-value" not in repr(transport) and "s3cret-value" not in str(vars(
        transport).get("settings"))
    try:
        SmtpTransport.from_config(settings, {})
    except Exception as error:
        assert "MY_SMTP_PW" in str(error)
    else:
        raise AssertionError("a missing password must be refused")


def test_a_refused_sender_defers_everything_for_the_next_run(group: Group,
                                                             smtp_server: SmtpServer) -> None:
    smtp = smtp_group(group, smtp_server)

    async def refuse_sender(*args: object) -> str:
        return "553 5.7.1 sender not allowed"

    smtp_server.mailbox.handle_MAIL = refuse_sender  # type: ignore[attr-defined]
    _, problems = group.run(at("2020-10-18"), smtp, batch_size=2)
    assert smtp_server.mailbox.received == []
    assert {s for k, s in group.statuses().items() if k[0] != "setup"} == {"deferred"}
    assert any("refused the sender" in p.message for p in problems)
    del smtp_server.mailbox.handle_MAIL  # type: ignore[attr-defined]
    reminders, _ = group.run(at("2020-10-18", "11:00"), smtp)
    assert len(reminders) == 5 and len(smtp_server.mailbox.received) == 5
