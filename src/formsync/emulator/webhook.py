"""A chat webhook (what apprise's json:// posts to), so the fault matrix can inject faults in
announcements as it does in Google's APIs. Not a Google API: it answers 204 No Content, as
Discord's and most chat webhooks do for a post (Discord: "Execute Webhook" returns 204 unless
`wait=true`), and keeps each JSON body it received, in order, per channel."""

from __future__ import annotations

from typing import Any

from formsync.emulator.server import ApiRequest, EmulatorState, Reply, Router


class WebhookApi:
    name = "webhook"

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    @property
    def _data(self) -> dict[str, Any]:
        channels: dict[str, Any] = self._state.section(self.name).setdefault("channels", {})
        return channels

    def register(self, router: Router) -> None:
        router.add("POST", r"^/webhook/(?P<channel>[^/]+)$", "webhook.post", self._post,
                   kind="write")

    def _post(self, request: ApiRequest) -> Reply:
        self._data.setdefault(request.params["channel"], []).append(request.json())
        return Reply(204)

    def posts(self, channel: str) -> list[dict[str, Any]]:
        with self._state.lock:
            return [dict(post) for post in self._data.get(channel, [])]
