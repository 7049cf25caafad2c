"""The configured channels: a stable, secret-free label for each (the ledger's Recipient), the
service's message length limit, and, at apply time only, the URL itself.

A URL from `urls_env` is labelled by its variable's name, so rotating a webhook's token keeps
the channel (and what was posted there); a URL written in the config is labelled by its scheme
and a digest of it, which never shows a secret that slipped into it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from formsync.config import Announce
from formsync.errors import ConfigError

FOLDER = "folder"  # formsync's own scheme: one Markdown file per post, in a local folder
# Characters a message may have on each service: apprise's `body_maxlen` of its plugin
# (checked against the installed apprise by the tests), less room where apprise converts our
# Markdown to HTML (Telegram), which makes the text longer.
LIMITS: Mapping[str, int] = {
    "discord": 2000, "tgram": 3000, "slack": 35000, "matrix": 40000, "matrixs": 40000,
    "workflow": 1000, "workflows": 1000, "json": 32768, "jsons": 32768, "form": 32768,
    "forms": 32768, FOLDER: 32768,
}
DEFAULT_LIMIT = 1000  # a service not listed above: short enough for any chat


@dataclass(frozen=True)
class Channel:
    label: str  # lower case (the ledger folds recipients)
    scheme: str
    env: str = ""  # the variable holding the URL; "" for a URL written in the config
    url: str = ""  # only for config URLs (never a secret by the config's contract)

    @property
    def limit(self) -> int:
        return LIMITS.get(self.scheme, DEFAULT_LIMIT)

    @property
    def markdown(self) -> bool:
        return self.scheme not in ("json", "jsons", "form", "forms")


def scheme_of(url: str) -> str:
    return url.partition("://")[0].lower()


def channels(settings: Announce, environ: Mapping[str, str] | None = None) -> list[Channel]:
    """The channels in config order. Without `environ` (planning) an env channel's scheme is
    unknown until apply; it is read from `environ` when given."""
    found = [Channel(_label(url), scheme_of(url), url=url) for url in settings.urls]
    for name in settings.urls_env:
        url = (environ or {}).get(name, "")
        found.append(Channel(f"env:{name.lower()}", scheme_of(url) if url else "", env=name))
    return found


def _label(url: str) -> str:
    scheme = scheme_of(url)
    if scheme == FOLDER:
        return f"{FOLDER}:{url.partition('://')[2].lower()}"
    where = url.partition("?")[0]  # options (timeouts, format) do not make another channel
    return f"{scheme}:{hashlib.sha256(where.encode('utf-8')).hexdigest()[:10]}"


def resolve(channel: Channel, environ: Mapping[str, str]) -> str:
    """The channel's URL; a missing variable is a ConfigError that names it (not its value)."""
    if not channel.env:
        return channel.url
    url = environ.get(channel.env, "").strip()
    if not url:
        raise ConfigError("announce.urls_env", f"the environment variable {channel.env} is "
                          "not set", fix=f"set {channel.env} to the channel's apprise URL "
                          "(e.g. a GitHub Actions secret), or remove it from urls_env")
    return url

