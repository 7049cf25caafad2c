"""For each supported chat service: apprise accepts its URL, and every announcement fits the
service's limit as apprise's plugin states it (`body_maxlen`), after apprise converts our
Markdown to the service's format; a long readings list is cut with a link to the README."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import apprise
import pytest
from apprise.conversion.format import convert_between
from tests.announce.support import make_config
from tests.reminders.support import at, seed_sessions

from formsync.announce.channels import LIMITS, Channel, scheme_of
from formsync.announce.plan import plan_announcements

# Example URLs in each service's documented syntax (apprise's wiki); tokens are made up.
SERVICES = {
    "discord": "discord://123456789012345678/abcdefghijklmnopqrstuvwxyz0123456789ABCD",
    "slack": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
    "telegram": "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567890/",
    "matrix": "matrixs://user:password@matrix.example.org/#study-group",
    # Microsoft retired Teams' Office 365 connectors; apprise reaches Teams through Power
    # Automate workflows (msteams:// is gone from apprise 1.9 on).
    "teams": "workflows://prod-00.westus.logic.azure.com:443/abc123def456/"
             "?signature=0123456789abcdef",
}
READINGS = "\n".join(f"[Reading {n}: a long title about deep learning, chapter {n}]"
                     f"(https://example.org/readings/{n:03}.md)" for n in range(1, 400))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_apprise_accepts_the_url_and_each_message_fits(service: str, tmp_path: Path) -> None:
    url = SERVICES[service]
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None, f"apprise refuses {url}"
    assert LIMITS[scheme_of(url)] <= plugin.body_maxlen
    config = make_config(tmp_path, urls=[url], readme_url="https://example.org/README.md")
    sessions = [replace(s, readings=READINGS, guide="") for s in seed_sessions()]
    channel = Channel(f"{scheme_of(url)}:test", scheme_of(url), url=url)
    planned, _ = plan_announcements(sessions, None, config, [channel], at("2020-11-15"))
    texts = [a.text for a in planned if a.text]
    assert len(texts) == 2
    formats = plugin.notify_format if isinstance(plugin.notify_format, tuple) else (
        plugin.notify_format,)
    for text in texts:
        sent = text if apprise.NotifyFormat.MARKDOWN in formats else convert_between(
            apprise.NotifyFormat.MARKDOWN, formats[0], text)
        assert len(sent) <= plugin.body_maxlen, (service, len(sent))
    cut = next(t for t in texts if "Reading 1:" in t)
    more = "- … (lista completa: https://example.org/README.md)\nEjercicios: "
    assert ("Reading 399" in cut) != (more in cut)  # whole, or cut with the link
    assert cut.endswith("Enlace: https://meet.example.org/d2l")


def test_a_short_readings_list_is_not_cut(tmp_path: Path) -> None:
    config = make_config(tmp_path, urls=[SERVICES["discord"]])
    channel = Channel("discord:test", "discord", url=SERVICES["discord"])
    planned, _ = plan_announcements(seed_sessions(), None, config, [channel],
                                    at("2020-11-15"))
    text = next(a.text for a in planned if a.kind == "announce_next")
    assert "Lecturas: Find readings [here](https://github.com/" in text  # Markdown kept
    assert text.startswith("**Próxima sesión 3: Linear Neural Networks**")
    assert "lista completa" not in text


def test_messages_follow_the_group_language(tmp_path: Path) -> None:
    config = make_config(tmp_path, urls=["json://127.0.0.1/hook"])
    config = config.model_copy(update={"group": config.group.model_copy(
        update={"language": "en"})})
    channel = Channel("json:test", "json", url="json://127.0.0.1/hook")
    planned, _ = plan_announcements(seed_sessions(), None, config, [channel],
                                    dt.datetime(2020, 11, 15, 15, 30, tzinfo=dt.UTC))
    assert [a.text.splitlines()[0] for a in planned if a.text] == [
        "Session 3 (Linear Neural Networks) has no guide yet",
        "Next session 3: Linear Neural Networks"]


PLAN_ONLY = """
import datetime as dt, sys, tempfile
from pathlib import Path
from formsync.announce.channels import channels
from formsync.announce.plan import plan_announcements
from formsync.config import parse_config
from formsync.model import Session

config = parse_config({"announce": {"urls": ["discord://1/token", "json://127.0.0.1/x"]}},
                      Path(tempfile.mkdtemp()))
session = Session(row=2, key="1", chapter="Intro", date=dt.date(2020, 10, 20))
found, _ = plan_announcements([session], None, config, channels(config.announce),
                              dt.datetime(2020, 10, 18, 15, tzinfo=dt.UTC))
assert [a for a in found if a.text], found
print(sorted(sys.modules))
"""


def test_planning_announcements_loads_no_apprise_and_no_network_library() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", PLAN_ONLY], capture_output=True, text=True,
                            check=True)
    loaded = result.stdout
    for library in ("'apprise", "'requests", "'babel", "'formsync.announce.post"):
        assert library not in loaded, library
