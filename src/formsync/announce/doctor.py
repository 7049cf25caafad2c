"""`formsync doctor` for announcements: each channel's URL is present, apprise accepts it, a
folder channel's folder is writable. Nothing is posted; no URL is printed (only its label and
the service apprise recognised)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from formsync.announce.channels import FOLDER, Channel, channels, resolve
from formsync.announce.post import instantiate
from formsync.config import Config
from formsync.doctor import Check
from formsync.errors import ConfigError


def announce_checks(config: Config, environ: Mapping[str, str] | None = None) -> list[Check]:
    if not config.announce.configured():
        return []
    env = os.environ if environ is None else environ
    return [_check(channel, config, env) for channel in channels(config.announce, env)]


def _check(channel: Channel, config: Config, environ: Mapping[str, str]) -> Check:
    name = f"announce {channel.label}"
    try:
        url = resolve(channel, environ)
    except ConfigError as error:
        return Check(name, False, error.message, error.fix)
    if channel.scheme == FOLDER:
        return _folder(name, config.path(Path(url.partition("://")[2])))
    plugin = instantiate(url)
    if plugin is None:
        where = f"the environment variable {channel.env}" if channel.env else "announce.urls"
        return Check(name, False, f"apprise does not accept this {channel.scheme}:// URL",
                     f"fix the URL in {where} (see apprise's page for the service; Teams "
                     "channels use workflows:// since apprise 1.9)")
    return Check(name, True, f"{plugin.service_name} URL accepted; nothing posted")


def _folder(name: str, folder: Path) -> Check:
    base = next((path for path in (folder, *folder.parents) if path.exists()), folder)
    try:
        handle, temp = tempfile.mkstemp(prefix=".formsync-doctor-", dir=base)
        os.close(handle)
        Path(temp).unlink()
    except OSError as error:
        return Check(name, False, f"cannot write in {base}: {error.strerror or error}",
                     "let this user write there, or change the folder:// URL in announce.urls")
    return Check(name, True, f"{folder} is writable; nothing written")
