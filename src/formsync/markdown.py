"""Markdown table cells: sheet text in, safe GitHub-flavoured Markdown out, and back again.

Cell text comes from a spreadsheet and is treated as hostile. `render_cell` keeps http(s) links
(`[label](https://...)` and bare URLs) as links and turns everything else into inert text:
pipes and brackets are backslash-escaped, `<`, `>` and `&` become HTML entities, line breaks and
other control characters become spaces. `unescape_cell` is the inverse used when importing a
table, so that `unescape_cell(render_cell(text)) == normalize_cell_text(text)`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class Text:
    """Plain text, shown as written."""

    text: str


@dataclass(frozen=True)
class Link:
    """An http(s) link; `label` is None for a bare URL."""

    url: str
    label: str | None = None


Token: TypeAlias = Text | Link

# A character a URL may hold here: no whitespace or control characters, and none of the
# characters that end or break a Markdown construct inside a table cell.
_URL_CHAR = r"[^\s\x00-\x1f\x7f<>\[\]|\\`()]"
# A link destination: URL characters plus one level of balanced parentheses (Wikipedia-style).
_LINK_URL = rf"(?i:https?)://(?:{_URL_CHAR}|\({_URL_CHAR}*\))+"
# A bare URL may hold parentheses; unbalanced closing ones are trimmed afterwards.
_BARE_URL = rf"(?i:https?)://(?:{_URL_CHAR}|[()])+"

# Links in sheet text: `[label](http(s)://...)`, or a bare http(s) URL that does not start
# inside a word.
_SHEET_LINK = re.compile(
    rf"\[(?P<label>[^\[\]]*)\]\((?P<url>{_LINK_URL})\)"
    rf"|(?<!\w)(?P<bare>{_BARE_URL})"
)

# What `unescape_cell` undoes in Markdown source, leftmost first.
_MARKDOWN_TOKEN = re.compile(
    r"\\(?P<escaped>[!-/:-@\[-`{-~])"  # a backslash escape of ASCII punctuation
    rf"|\[(?P<label>(?:\\.|[^\[\]\\])*)\]\((?P<url>{_LINK_URL})\)"  # an http(s) link
    rf"|<(?P<autolink>{_BARE_URL})>"  # an autolink <https://...>
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    r"|(?P<line_break><[bB][rR]\s*/?>)"  # a hand-written <br> line break
)

_TEXT_ESCAPES = str.maketrans({
    "\\": "\\\\", "|": "\\|", "[": "\\[", "]": "\\]", "`": "\\`",
    "<": "&lt;", ">": "&gt;", "&": "&amp;",
})
# Control characters and line/paragraph separators: a table cell is one line of text.
_BREAKS_TO_SPACES = {
    code: " " for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
}
_URL_TRAILING_PUNCTUATION = ".,:;!?'\"*_~"


def normalize_cell_text(text: str) -> str:
    """The text a cell can hold: line breaks and control characters become spaces; no outer
    whitespace."""
    return text.translate(_BREAKS_TO_SPACES).strip()


def parse_cell(text: str) -> list[Token]:
    """Split sheet text into plain text and http(s) links (other schemes stay text)."""
    clean = normalize_cell_text(text)
    tokens: list[Token] = []
    position = 0
    while (match := _SHEET_LINK.search(clean, position)) is not None:
        link, end = _link_of(match)
        if link is None:
            _append_text(tokens, clean[position:end])
        else:
            _append_text(tokens, clean[position:match.start()])
            tokens.append(link)
        position = end
    _append_text(tokens, clean[position:])
    return tokens


def _link_of(match: re.Match[str]) -> tuple[Link | None, int]:
    """The link a match stands for (None if nothing is left of a bare URL), and where it ends."""
    bare = match["bare"]
    if bare is None:
        return Link(match["url"], match["label"]), match.end()
    url = trim_bare_url(bare)
    if not re.fullmatch(r"(?i:https?)://.+", url):
        return None, match.end()
    return Link(url), match.start() + len(url)


def trim_bare_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing parentheses, as GitHub does."""
    opened, closed = url.count("("), url.count(")")
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _URL_TRAILING_PUNCTUATION:
            end -= 1
        elif last == ")" and closed > opened:
            end, closed = end - 1, closed - 1
        else:
            break
    return url[:end]


def _append_text(tokens: list[Token], text: str) -> None:
    if not text:
        return
    if tokens and isinstance(tokens[-1], Text):
        tokens[-1] = Text(tokens[-1].text + text)
    else:
        tokens.append(Text(text))


def escape_text(text: str) -> str:
    """Plain text as inert Markdown: it cannot end the cell, open a link, code span or tag."""
    return text.translate(_TEXT_ESCAPES)


def render_cell(text: str) -> str:
    """Sheet text as the Markdown of one table cell."""
    tokens = parse_cell(text)
    parts = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        parts.append(_render_token(token, following))
    return "".join(parts)


def _render_token(token: Token, following: Token | None) -> str:
    if isinstance(token, Link):
        if token.label is None:
            return f"<{token.url}>"
        return f"[{escape_text(token.label)}]({token.url})"
    escaped = escape_text(token.text)
    if escaped.endswith("!") and isinstance(following, Link) and following.label is not None:
        escaped = escaped[:-1] + "\\!"  # "!" before "[label](url)" would make it an image
    return escaped


def unescape_cell(markdown: str) -> str:
    """The sheet text of a cell's Markdown: escapes and entities undone, links kept as written,
    autolinks as bare URLs, `<br>` as a space."""
    return normalize_cell_text(_unescape(markdown))


def _unescape(markdown: str) -> str:
    parts = []
    position = 0
    for match in _MARKDOWN_TOKEN.finditer(markdown):
        parts.append(markdown[position:match.start()])
        parts.append(_unescape_token(match))
        position = match.end()
    parts.append(markdown[position:])
    return "".join(parts)


def _unescape_token(match: re.Match[str]) -> str:
    if match["escaped"] is not None:
        return match["escaped"]
    if match["url"] is not None:
        return f"[{_unescape(match['label'])}]({match['url']})"
    if match["autolink"] is not None:
        return match["autolink"]
    if match["entity"] is not None:
        return html.unescape(match["entity"])
    return " "  # <br>


def split_row(line: str) -> list[str]:
    """The raw Markdown cells of a table row, stripped; outer pipes dropped.

    A pipe preceded by a backslash belongs to the cell (GFM), any other pipe separates cells.
    """
    body = line.strip()
    body = body.removeprefix("|")
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", body)]


def display_width(text: str) -> int:
    """Columns `text` takes in a monospace font: wide East Asian characters count two,
    combining marks and format characters none."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
