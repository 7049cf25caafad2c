"""Names as people write them: a Guide cell matched to a member, and a session's label.

A Guide cell may hold a member's full name, their email, or the start of their name ("Toño"
finds "Toño Díaz"); accents, case and extra spaces never matter. A cell that fits several
members matches them all, so the caller can name the candidates.

A session is labelled "Sesión 3 – Linear Neural Networks"; one without a number keeps the word
its row gives it: "Optional Session - Tools for Deep Learning" becomes "Sesión opcional – Tools
for Deep Learning" (English: "Optional session – Tools for Deep Learning").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from formsync.columns import fold
from formsync.model import Member, Session

_EMAIL = re.compile(r"[<(\[]?\s*[^\s@<>()\[\],;]+@[^\s@<>()\[\],;]+\s*[>)\]]?")
_WORD = re.compile(r"[^\W_]+")
_SESSION_WORD = {"es": "Sesión", "en": "Session"}
_NUMBERED_PREFIX = re.compile(r"^\s*(?:sesi[oó]n|session)\s*\d+\s*[-–—:.]\s*", re.IGNORECASE)
# "Optional Session - Tools", "Sesión opcional: Tools", "Session - Tools".
_UNNUMBERED_PREFIX = re.compile(
    r"^\s*(?:(?P<before>[^\W\d_]+)\s+)?(?:sesi[oó]n|session)(?:\s+(?P<after>[^\W\d_]+))?"
    r"\s*[-–—:.]\s*(?P<topic>.*)$", re.IGNORECASE | re.DOTALL)
_QUALIFIERS = {  # folded word → (Spanish, English)
    "optional": ("opcional", "optional"), "opcional": ("opcional", "optional"),
    "extra": ("extra", "extra"), "bonus": ("extra", "bonus"),
    "special": ("especial", "special"), "especial": ("especial", "special"),
}


# ---- guides ----------------------------------------------------------------------------------

def guide_matches(cell: str, members: Sequence[Member]) -> list[Member]:
    """The members a Guide cell names: an exact name or email first, else those whose name
    starts with the cell's words ("Toño", "toño d"). One member per email."""
    wanted = fold(cell)
    if not wanted:
        return []
    first: dict[str, Member] = {}
    for member in members:
        first.setdefault(member.email, member)
    unique = list(first.values())
    exact = [m for m in unique if wanted in (fold(m.name), fold(m.email))]
    if exact:
        return exact
    words = _words(wanted)
    return [m for m in unique if words and _starts(_words(fold(m.name)), words)]


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _starts(name: Sequence[str], cell: Sequence[str]) -> bool:
    """Each of the cell's words begins the name's word at the same place."""
    return len(cell) <= len(name) and all(n.startswith(c) for n, c in zip(name, cell,
                                                                            strict=False))


def guide_identity(cell: str, members: Sequence[Member]) -> str:
    """Who guides, for counting: the member's email when the cell names exactly one."""
    matches = guide_matches(cell, members)
    return matches[0].email if len(matches) == 1 else fold(cell)


def public_guide(cell: str, members: Sequence[Member]) -> str:
    """The Guide cell as the public README and calendar show it: as written, but never an
    email address (it becomes the member's name, or is dropped)."""
    if "@" not in cell:
        return cell
    rest = " ".join(_EMAIL.sub(" ", cell).split()).strip(" ,;-–—:")
    if rest:
        return rest
    matches = guide_matches(cell, members)
    return matches[0].name if len(matches) == 1 else ""


def public_sessions(sessions: Sequence[Session], members: Sequence[Member]) -> list[Session]:
    return [replace(s, guide=public_guide(s.guide, members)) if "@" in s.guide else s
            for s in sessions]


# ---- session labels --------------------------------------------------------------------------

def chapter_title(chapter: str) -> str:
    """The chapter without a leading "Session 3 - " (README-style chapters carry one)."""
    return _NUMBERED_PREFIX.sub("", chapter).strip()


def session_ident(session: Session) -> str:
    """What names a session in the ledger and on its events: its number, else its Session
    cell, else its chapter (spaces collapsed)."""
    return " ".join((session.key or session.chapter).split())


def topic(session: Session) -> str:
    """The chapter without the words that only say which session it is."""
    if session.number is not None:
        return chapter_title(session.chapter)
    match = _UNNUMBERED_PREFIX.match(session.chapter)
    return (match["topic"] if match else session.chapter).strip()


def designation(session: Session, language: str) -> str:
    """What follows the word "session": "3", "opcional" (en "optional"), or "" for none."""
    if session.number is not None:
        return str(session.number)
    match = _UNNUMBERED_PREFIX.match(session.chapter)
    word = (match["before"] or match["after"] or "") if match else ""
    key = session.key.strip()
    if not word and key and fold(key) != fold(session.chapter):
        word = key
    known = _QUALIFIERS.get(fold(word))
    return known[0 if language == "es" else 1] if known else " ".join(word.split())


def session_head(session: Session, language: str) -> str:
    """"Sesión 3", "Sesión opcional"; English puts a word before: "Optional session"."""
    word = _SESSION_WORD.get(language, _SESSION_WORD["en"])
    which = designation(session, language)
    if not which:
        return word
    if language == "en" and not any(c.isdigit() for c in which):
        return f"{which[:1].upper()}{which[1:]} {word.lower()}"
    return f"{word} {which}"


def session_label(session: Session, language: str, *, note: str = "") -> str:
    """"Sesión 3 – Linear Neural Networks"; `note` goes after the head: "Sesión 3 (tentativa)"."""
    head = session_head(session, language) + (f" ({note})" if note else "")
    title = topic(session)
    return f"{head} – {title}" if title else head


def session_name(session: Session, language: str) -> str:
    """The session inside a sentence: "sesión 3", "sesión opcional", "the optional session"."""
    head = session_head(session, language)
    if language == "en" and session.number is None and designation(session, language):
        return f"the {head[:1].lower()}{head[1:]}"
    return f"{head[:1].lower()}{head[1:]}"
