"""Gmail API v1: users.drafts.create/get/list/send/delete and users.messages.send/get/list.

Follows the API reference and gmail.v1.json (google-api-python-client's discovery document):
messages travel as RFC 5322 bytes in base64url `raw`; a draft carries the DRAFT label; sending
a draft deletes it and creates a new message (new id) with the SENT label, returned by
drafts.send; a missing draft or message answers 404 "Requested entity was not found.";
a message with no valid recipient answers 400 "Invalid To header". `userId` "me" is the
caller (the delegated subject, or the OAuth user).

Simplifications: no threads beyond one per message, no labels other than DRAFT and SENT,
`q` search is not supported, and nothing is actually delivered (see `sent()`).
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from formsync.emulator.server import (
    ApiError,
    ApiRequest,
    EmulatorState,
    Reply,
    Router,
    bad_request,
    not_found,
)

_SCOPE = "https://www.googleapis.com/auth/"
_FULL = "https://mail.google.com/"
COMPOSE_SCOPES = frozenset({_FULL, _SCOPE + "gmail.compose", _SCOPE + "gmail.modify",
                            _SCOPE + "gmail.addons.current.action.compose"})
DRAFT_READ_SCOPES = frozenset({_FULL, _SCOPE + "gmail.compose", _SCOPE + "gmail.modify",
                               _SCOPE + "gmail.readonly"})
SEND_SCOPES = COMPOSE_SCOPES | {_SCOPE + "gmail.send"}
MESSAGE_READ_SCOPES = frozenset({_FULL, _SCOPE + "gmail.modify", _SCOPE + "gmail.readonly",
                                 _SCOPE + "gmail.metadata"})
_USER = r"^/gmail/v1/users/(?P<user>[^/]+)"
_FORMATS = ("minimal", "full", "raw", "metadata")


def decode_raw(raw: object) -> EmailMessage:
    """The RFC 5322 message in a base64url `raw` field (padding optional, as Google accepts)."""
    if not isinstance(raw, str) or not raw:
        raise bad_request("Invalid raw: a base64url encoded RFC 2822 message is required.")
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise bad_request("Invalid value for ByteString: " + raw[:40]) from None
    return BytesParser(policy=policy.default).parsebytes(data)


def recipients(message: EmailMessage) -> list[str]:
    """The addresses in To, Cc and Bcc; 400 "Invalid To header" when there is none usable."""
    found: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        for header in message.get_all(name) or []:
            found += [a.addr_spec for a in getattr(header, "addresses", ())
                      if "@" in a.addr_spec]
            if getattr(header, "defects", None):
                raise bad_request("Invalid To header")
    if not found:
        raise bad_request("Invalid To header")
    return found


def precondition_failed() -> ApiError:
    """What Gmail answers a service account acting as itself (a token without `sub`): it has
    no mailbox. Seen for drafts.list, messages.list and messages.send in
    googleapis/google-api-go-client#764, googleapis/google-api-java-client#1648 (the body) and
    googleworkspace/cli#753 (the cause: no `sub` claim in the JWT)."""
    return ApiError(400, "Precondition check failed.", "FAILED_PRECONDITION",
                    reason="failedPrecondition")


class GmailApi:
    name = "gmail"

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    @property
    def _data(self) -> dict[str, Any]:
        data = self._state.section(self.name)
        data.setdefault("mailboxes", {})
        data.setdefault("counter", 0)
        return data

    def register(self, router: Router) -> None:
        drafts, draft = rf"{_USER}/drafts$", rf"{_USER}/drafts/(?P<id>[^/]+)$"
        messages, message = rf"{_USER}/messages$", rf"{_USER}/messages/(?P<id>[^/]+)$"
        routes: list[tuple[str, str, str, Callable[[ApiRequest], Reply], bool,
                           frozenset[str]]] = [
            ("POST", drafts, "gmail.users.drafts.create", self._create_draft, True,
             COMPOSE_SCOPES),
            ("GET", drafts, "gmail.users.drafts.list", self._list_drafts, False,
             DRAFT_READ_SCOPES),
            ("POST", rf"{_USER}/drafts/send$", "gmail.users.drafts.send", self._send_draft,
             True, COMPOSE_SCOPES),
            ("GET", draft, "gmail.users.drafts.get", self._get_draft, False,
             DRAFT_READ_SCOPES),
            ("DELETE", draft, "gmail.users.drafts.delete", self._delete_draft, True,
             COMPOSE_SCOPES),
            ("POST", rf"{_USER}/messages/send$", "gmail.users.messages.send",
             self._send_message, True, SEND_SCOPES),
            ("GET", messages, "gmail.users.messages.list", self._list_messages, False,
             MESSAGE_READ_SCOPES),
            ("GET", message, "gmail.users.messages.get", self._get_message, False,
             MESSAGE_READ_SCOPES),
        ]
        for method, pattern, name, handler, writes, scopes in routes:
            router.add(method, pattern, name, handler, kind="write" if writes else "read",
                       scopes=scopes)

    # -- inspection (for tests) -------------------------------------------------------------

    def sent(self, user: str) -> list[EmailMessage]:
        """The messages `user` sent (drafts.send or messages.send), oldest first."""
        with self._state.lock:
            box = self._data["mailboxes"].get(user, {"messages": {}})
            return [decode_raw(m["raw"]) for m in box["messages"].values()
                    if "SENT" in m["labelIds"]]

    def drafts(self, user: str) -> list[EmailMessage]:
        with self._state.lock:
            box = self._data["mailboxes"].get(user, {"drafts": {}})
            return [decode_raw(d["message"]["raw"]) for d in box["drafts"].values()]

    # -- storage ----------------------------------------------------------------------------

    def _mailbox(self, request: ApiRequest) -> dict[str, Any]:
        if request.caller is not None and request.caller.bare_service_account:
            raise precondition_failed()
        user = request.params["user"]
        caller = request.caller.principal if request.caller else ""
        if user != "me" and user.lower() != caller.lower():
            raise ApiError(403, "Delegation denied for " + caller, "PERMISSION_DENIED")
        box: dict[str, Any] = self._data["mailboxes"].setdefault(
            caller, {"drafts": {}, "messages": {}})
        return box

    def _next_id(self) -> int:
        self._data["counter"] += 1
        return int(self._data["counter"])

    def _new_message(self, raw: str, label: str) -> dict[str, Any]:
        number = self._next_id()
        message_id = f"{0x18f0000000000000 + number:x}"
        return {"id": message_id, "threadId": message_id, "labelIds": [label], "raw": raw}

    # -- drafts -----------------------------------------------------------------------------

    def _create_draft(self, request: ApiRequest) -> Reply:
        box = self._mailbox(request)
        body = _object(request)
        message = body.get("message")
        if not isinstance(message, dict) or "raw" not in message:
            raise bad_request("Invalid draft")
        decode_raw(message["raw"])
        draft_id = f"r{1000000000000000000 + self._next_id() * 7919}"
        stored = {"id": draft_id, "message": self._new_message(message["raw"], "DRAFT")}
        box["drafts"][draft_id] = stored
        return Reply(200, _draft_view(stored, "minimal"))

    def _draft(self, box: dict[str, Any], draft_id: str) -> dict[str, Any]:
        draft = box["drafts"].get(draft_id)
        if draft is None:
            raise not_found()
        return cast(dict[str, Any], draft)

    def _get_draft(self, request: ApiRequest) -> Reply:
        draft = self._draft(self._mailbox(request), request.params["id"])
        return Reply(200, _draft_view(draft, _format(request)))

    def _list_drafts(self, request: ApiRequest) -> Reply:
        box = self._mailbox(request)
        listed = [{"id": d["id"], "message": {"id": d["message"]["id"],
                                              "threadId": d["message"]["threadId"]}}
                  for d in box["drafts"].values()]
        return _listing("drafts", listed, request)

    def _delete_draft(self, request: ApiRequest) -> Reply:
        box = self._mailbox(request)
        self._draft(box, request.params["id"])
        del box["drafts"][request.params["id"]]
        # Google answers 204 with no body; the server writes one anyway, so close the
        # connection rather than let a keep-alive client misread it (as calendar.py does).
        return Reply(204, None, {"Connection": "close"})

    def _send_draft(self, request: ApiRequest) -> Reply:
        box = self._mailbox(request)
        draft_id = _object(request).get("id")
        if not isinstance(draft_id, str) or not draft_id:
            raise bad_request("Invalid draft id")  # the discovery doc marks `id` required
        draft = self._draft(box, draft_id)
        raw = draft["message"]["raw"]
        recipients(decode_raw(raw))
        del box["drafts"][draft_id]
        sent = self._new_message(raw, "SENT")
        box["messages"][sent["id"]] = sent
        return Reply(200, _message_view(sent, "minimal"))

    # -- messages ---------------------------------------------------------------------------

    def _send_message(self, request: ApiRequest) -> Reply:
        box = self._mailbox(request)
        raw = _object(request).get("raw")
        recipients(decode_raw(raw))
        sent = self._new_message(str(raw), "SENT")
        box["messages"][sent["id"]] = sent
        return Reply(200, _message_view(sent, "minimal"))

    def _get_message(self, request: ApiRequest) -> Reply:
        message = self._mailbox(request)["messages"].get(request.params["id"])
        if message is None:
            raise not_found()
        return Reply(200, _message_view(message, _format(request), _wanted_headers(request)))

    def _list_messages(self, request: ApiRequest) -> Reply:
        box = self._mailbox(request)
        wanted = set(request.args("labelIds"))
        listed = [{"id": m["id"], "threadId": m["threadId"]}
                  for m in reversed(list(box["messages"].values()))
                  if wanted <= set(m["labelIds"])]
        return _listing("messages", listed, request)


# ---------------------------------------------------------------------------------------------
# Views


def _object(request: ApiRequest) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    return body


def _format(request: ApiRequest) -> str:
    value = request.arg("format", "full") or "full"
    if value not in _FORMATS:
        raise bad_request(f"Invalid value at 'format' ({value})")
    return value


def _listing(key: str, listed: list[dict[str, Any]], request: ApiRequest) -> Reply:
    """A list answer as Gmail gives it: the page under `key` (omitted when empty), the
    estimate, and nextPageToken while more remain."""
    page, token = _page(listed, request)
    body: dict[str, Any] = {"resultSizeEstimate": len(listed)}
    if page:
        body[key] = page
    if token:
        body["nextPageToken"] = token
    return Reply(200, body)


def _page(items: list[dict[str, Any]], request: ApiRequest
          ) -> tuple[list[dict[str, Any]], str]:
    try:
        size = min(500, max(1, int(request.arg("maxResults", "100") or "100")))
        start = int(request.arg("pageToken", "0") or "0")
    except ValueError:
        raise bad_request("Invalid pageToken or maxResults") from None
    page = list(itertools.islice(items, start, start + size))
    return page, str(start + size) if start + size < len(items) else ""


def _message_view(stored: dict[str, Any], form: str, wanted: list[str] | None = None
                  ) -> dict[str, Any]:
    view = {"id": stored["id"], "threadId": stored["threadId"],
            "labelIds": list(stored["labelIds"])}
    if form == "minimal":
        return view
    raw = stored["raw"]
    message = decode_raw(raw)
    view["sizeEstimate"] = len(raw) * 3 // 4
    if form == "raw":
        view["raw"] = raw
        return view
    headers = [{"name": k, "value": str(v)} for k, v in message.items()
               if form != "metadata" or not wanted or k.lower() in wanted]
    view["payload"] = {"mimeType": message.get_content_type(), "headers": headers}
    text = message.get_body(("plain",))
    view["snippet"] = " ".join(str(text.get_content()).split())[:200] if text else ""
    return view


def _draft_view(stored: dict[str, Any], form: str, wanted: list[str] | None = None
                ) -> dict[str, Any]:
    return {"id": stored["id"], "message": _message_view(stored["message"], form, wanted)}


def _wanted_headers(request: ApiRequest) -> list[str]:
    """messages.get `metadataHeaders` (format=metadata): only these headers are returned."""
    return [name.lower() for name in request.args("metadataHeaders")]
