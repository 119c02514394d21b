"""Snippets escape the event's own HTML; only <mark> is markup."""

from __future__ import annotations

import re
from pathlib import Path

from search.highlight import snippet
from search.text import Analyzer
from tests.conftest import client_for

HOSTILE = {
    "id": "hostile",
    "date": "2020-02-02",
    "title": "Refugees <b>bold</b> title",
    "body": "<script>alert('x')</script> Refugees & <img src=x onerror=alert(1)> arrive "
    'at the "border" </mark><mark>.',
}


def test_stored_html_is_escaped_in_snippets(tmp_path: Path) -> None:
    client = client_for(tmp_path, [HOSTILE])
    result = client.simulate_get("/api/search", params={"q": "refugees border"}).json["results"][0]
    text = result["snippet"]
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text and "&amp;" in text
    tags = re.findall(r"</?[a-zA-Z][^>]*>", text)
    assert set(tags) == {"<mark>", "</mark>"}
    assert "<mark>Refugees</mark>" in text and "<mark>border</mark>" in text
    assert "&lt;/mark&gt;&lt;mark&gt;" in text


def test_best_passage_of_a_long_text() -> None:
    text = " ".join(["filler"] * 200) + " the earthquake struck Nepal " + " ".join(["tail"] * 200)
    out = snippet(text, {"earthquak", "nepal"}, Analyzer("porter2"), width=120)
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>earthquake</mark> struck <mark>Nepal</mark>" in out
    assert len(re.sub(r"</?mark>", "", out)) <= 140


def test_no_match_gives_the_beginning() -> None:
    out = snippet("A short text & more.", {"absent"}, Analyzer("porter2"))
    assert out == "A short text &amp; more."
