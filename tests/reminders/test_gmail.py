"""The Gmail transport through the real googleapiclient, over HTTP, to the emulator."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from tests.reminders.support import Group, at, gmail_settings, make_config

from formsync.backends import build_transport
from formsync.emulator.gmail import GmailApi
from formsync.google.auth import GMAIL_COMPOSE
from formsync.reminders.transports import GmailTransport

SENDER = "grupo@example.org"


def gmail_of(emulator: Any) -> GmailApi:
    api: GmailApi = emulator.apis["gmail"]
    return api


@pytest.fixture
def gmail(group: Group, emulator: Any, tmp_path: Path) -> GmailTransport:
    google = gmail_settings(emulator, tmp_path / "key.json", subject=SENDER)
    group.config = make_config(group.root, google=google, transport="gmail")
    transport = build_transport(group.config)
    assert isinstance(transport, GmailTransport)
    return transport


def test_a_day_of_reminders_goes_out_as_sent_drafts(group: Group, gmail: GmailTransport,
                                                    emulator: Any) -> None:
    group.run(at("2020-10-05"), gmail)
    before = emulator.counts()
    _, problems = group.run(at("2020-10-18"), gmail)
    calls = (emulator.counts() - before).of("gmail")
    assert problems == []
    sent = gmail_of(emulator).sent(SENDER)
    assert len(sent) == 5  # guide of session 1 + four reading reminders
    assert gmail_of(emulator).drafts(SENDER) == []
    assert calls["gmail.users.drafts.create"] == 5 and calls["gmail.users.drafts.send"] == 5
    assert calls.total == 10
    rows = [r for r in group.ledger() if r["Kind"] != "setup"]
    assert {r["Status"] for r in rows} == {"sent"} and all(r["Message id"] for r in rows)
    tokens = emulator.oauth.issued_tokens()
    assert tokens and all(t.scopes == (GMAIL_COMPOSE,) and t.principal == SENDER
                          for t in tokens)


def test_the_emulator_answers_like_google(gmail: GmailTransport, emulator: Any) -> None:
    drafts = gmail.service.users().drafts()
    with pytest.raises(HttpError) as caught:
        drafts.get(userId="me", id="r-404").execute()
    assert caught.value.resp.status == 404
    assert json.loads(caught.value.content) == {"error": {
        "code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}
    raw = base64.urlsafe_b64encode(b"From: a@example.org\r\nSubject: x\r\n\r\nhi\r\n").decode()
    draft = drafts.create(userId="me", body={"message": {"raw": raw}}).execute()
    assert draft["message"]["labelIds"] == ["DRAFT"]
    with pytest.raises(HttpError) as caught:  # no recipient
        drafts.send(userId="me", body={"id": draft["id"]}).execute()
    assert caught.value.resp.status == 400
    listed = drafts.list(userId="me").execute()
    assert [d["id"] for d in listed["drafts"]] == [draft["id"]]
    drafts.delete(userId="me", id=draft["id"]).execute()
    assert drafts.list(userId="me").execute() == {"resultSizeEstimate": 0}
    assert not gmail.draft_exists(draft["id"])


def test_a_sent_draft_is_gone(gmail: GmailTransport, emulator: Any) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, "ana@example.org", "Hola"
    message.set_content("hola")
    draft = gmail.create_draft(message)
    assert gmail.draft_exists(draft)
    sent_id = gmail.send_draft(draft)
    assert sent_id and not gmail.draft_exists(draft)
    [sent] = gmail_of(emulator).sent(SENDER)
    assert sent["Subject"] == "Hola"
    stored = gmail.service.users().messages().list  # messages.* need a read scope:
    with pytest.raises(HttpError) as caught:       # gmail.compose does not grant it
        stored(userId="me").execute()
    assert caught.value.resp.status == 403
