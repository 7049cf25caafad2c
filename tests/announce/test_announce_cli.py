"""doctor checks each channel without posting; the demo writes its posts to announcements/;
`sync --dry-run` shows each message as it would be posted, and posts nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.announce.support import Webhooks, make_config

from formsync.announce.doctor import announce_checks

FORMSYNC = str(Path(sys.executable).with_name("formsync"))


def test_doctor_checks_each_url_and_secret_without_posting(tmp_path: Path,
                                                           webhooks: Webhooks) -> None:
    secret = "T0KEN-never-shown"
    config = make_config(tmp_path, urls=[webhooks.url("json", "/hook"), "folder://posts"],
                         urls_env=["CHAT_HOOK", "MISSING_HOOK", "ODD_HOOK"])
    environ = {"CHAT_HOOK": f"discord://1234/{secret}", "ODD_HOOK": f"nosuch://{secret}"}
    checks = announce_checks(config, environ)
    assert [(c.ok, c.detail) for c in checks] == [
        (True, "JSON URL accepted; nothing posted"),
        (True, f"{tmp_path / 'posts'} is writable; nothing written"),
        (True, "Discord URL accepted; nothing posted"),
        (False, "config announce.urls_env: the environment variable MISSING_HOOK is not "
                "set"),
        (False, "apprise does not accept this nosuch:// URL"),
    ]
    assert all(secret not in line for c in checks for line in c.lines())
    assert webhooks.received == []
    assert not (tmp_path / "posts").exists()


def _formsync(*args: str, cwd: Path) -> str:
    done = subprocess.run([FORMSYNC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_the_demo_posts_to_a_folder_and_dry_run_shows_each_message(tmp_path: Path) -> None:
    _formsync("demo", "demo", cwd=tmp_path)
    folder = tmp_path / "demo" / "announcements"
    posts = sorted(path.name.split("__")[0] for path in folder.glob("*.md"))
    assert posts == ["announce_next", "announce_no_guide"]
    out = _formsync("sync", "--dry-run", "--now", "2020-11-29T09:30", "--only", "announce",
                    cwd=tmp_path / "demo")
    assert "would post the next-session announcement of session 4 in folder:announcements:\n"\
           "    | **Próxima sesión 4: Multilayer Perceptrons**\n" in out
    assert len(list(folder.glob("*.md"))) == 2  # a dry run writes nothing
