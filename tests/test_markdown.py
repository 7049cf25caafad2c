from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formsync.markdown import (
    Link,
    Text,
    display_width,
    normalize_cell_text,
    parse_cell,
    render_cell,
    split_row,
    unescape_cell,
)

# Fragments that stress the escaper: Markdown syntax, HTML, links of every kind, line breaks.
TRICKY = ["|", "\\", "[", "]", "(", ")", "<", ">", "&", "&amp;", "&#53;", "!", "`", "*", "_",
          "~", " ", "\n", "\r\n", "\u2028", "\t", "\x00", "TBA", "NA", "<br>", "<script>",
          "https://a.example/x_(y)", "http://b.example/?q=1&r=2", "[x](https://c.example/d)",
          "[x](javascript:alert(1))", "javascript:alert(1)", "<https://e.example>", "www.f.com",
          "[", "](https://g.example)", "Toño", "😀", "שלום", "\u202e"]
cell_texts = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=8)),
                      max_size=12).map("".join)


def unescaped_link_targets(markdown: str) -> list[str]:
    """The destinations of [label](...) links in Markdown (brackets not backslash-escaped)."""
    return re.findall(r"(?<!\\)\]\(([^)\s]*)", markdown)


def test_plain_text_is_left_readable() -> None:
    assert render_cell("Multilayer Perceptrons: MLP_1 *bold* ~ok~") == \
        "Multilayer Perceptrons: MLP_1 *bold* ~ok~"


@pytest.mark.parametrize(("text", "markdown"), [
    ("a|b", "a\\|b"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("Q&A", "Q&amp;A"),
    ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
    ("[not a link]", "\\[not a link\\]"),
    ("line one\nline two\r\nthree", "line one line two  three"),
    ("back\\slash", "back\\\\slash"),
    ("`code`", "\\`code\\`"),
])
def test_hostile_text_becomes_inert(text: str, markdown: str) -> None:
    assert render_cell(text) == markdown


def test_links_are_kept_several_per_cell_mixed_with_text() -> None:
    text = "Find readings [here](https://x.example/r.md) and [PDF](https://x.example/a.pdf), " \
           "[Notebook](https://colab.example/n?usp=sharing)"
    assert render_cell(text) == text
    assert parse_cell(text) == [
        Text("Find readings "), Link("https://x.example/r.md", "here"), Text(" and "),
        Link("https://x.example/a.pdf", "PDF"), Text(", "),
        Link("https://colab.example/n?usp=sharing", "Notebook")]


def test_bare_urls_become_autolinks_without_trailing_punctuation() -> None:
    assert parse_cell("see https://en.wikipedia.org/wiki/Foo_(bar)). Next") == [
        Text("see "), Link("https://en.wikipedia.org/wiki/Foo_(bar)"), Text("). Next")]
    assert render_cell("see https://a.example/x.") == "see <https://a.example/x>."


@pytest.mark.parametrize("text", ["javascript:alert(1)", "[x](data:text/html,hi)",
                                  "[x](ftp://a.example)", "<javascript:alert(1)>",
                                  "xhttps://inside.word", "[x](//evil.example)"])
def test_only_http_links_survive(text: str) -> None:
    tokens = parse_cell(text)
    assert all(isinstance(token, Text) for token in tokens)
    assert unescaped_link_targets(render_cell(text)) == []
    assert "<" not in render_cell(text)


def test_an_image_is_shown_as_a_link() -> None:
    assert render_cell("![pixel](https://t.example/p.png)") == "\\![pixel](https://t.example/p.png)"


def test_labels_are_escaped_too() -> None:
    assert render_cell("[a|<b>](https://x.example)") == "[a\\|&lt;b&gt;](https://x.example)"


def test_unescape_reads_hand_written_cells() -> None:
    assert unescape_cell("a\\|b &lt;i&gt; \\*x\\*") == "a|b <i> *x*"
    assert unescape_cell("one<br>two<br/>three") == "one two three"
    assert unescape_cell("<https://a.example/x>") == "https://a.example/x"
    assert unescape_cell("[a\\|b](https://a.example)") == "[a|b](https://a.example)"
    assert unescape_cell("&copy; &#65; &nosuch;") == "© A &nosuch;"


@given(cell_texts)
def test_unescape_inverts_render(text: str) -> None:
    assert unescape_cell(render_cell(text)) == normalize_cell_text(text)


@given(cell_texts)
def test_rendered_cells_are_one_cell_with_only_http_links(text: str) -> None:
    markdown = render_cell(text)
    assert len(split_row(f"| {markdown} | z |")) == 2
    assert "\n" not in markdown and "\r" not in markdown
    assert all(re.match(r"(?i)https?://", url) for url in unescaped_link_targets(markdown))
    # Every unescaped "<" opens an http(s) autolink: no raw HTML can get through.
    assert all(markdown[index:index + 9].lower().startswith(("<http://", "<https://"))
               for index, char in enumerate(markdown) if char == "<")


@given(cell_texts)
def test_render_is_stable_after_a_round_trip(text: str) -> None:
    once = render_cell(text)
    assert render_cell(unescape_cell(once)) == once


def test_split_row_keeps_escaped_pipes() -> None:
    assert split_row("| a \\| b | c |") == ["a \\| b", "c"]
    assert split_row("a | b") == ["a", "b"]
    assert split_row("| a\\\\ | b |") == ["a\\\\", "b"]


def test_display_width_counts_wide_and_combining_characters() -> None:
    assert display_width("Toño") == 4
    assert display_width("To\u0303no") == 4
    assert display_width("日本") == 4


def test_a_huge_cell_is_rendered_quickly() -> None:
    text = ("[x](https://a.example/" + "y" * 1000 + ") | <b> ") * 45
    assert len(text) > 45_000
    assert unescape_cell(render_cell(text)) == normalize_cell_text(text)
