"""Property-based tests of the input parsers and of what a rebuild makes of their output.

Arbitrary bytes, and real documents (the seed page, the demo pages, WikiTimes
records, canonical JSON, JSON Lines and XML) with lines deleted, repeated or
swapped, bytes flipped, the end cut off, entities, markup and impossible dates
put in, are read by ``read_file``.  It never raises; it yields complete, valid
events (each one is canonical JSON that reads back to itself, and loses no word
of its page or XML element) or rejects that say why.  A rebuild of a mix of
good and broken files indexes exactly the events that parsed, as parsed, and
reports every reject.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import hypothesis
import orjson
import pytest
from defusedxml import ElementTree
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from config import Config
from indexer import jobs
from indexer.formats import Reject, read_file
from indexer.formats.canonical import parse_canonical
from search import Event, IndexStore, SearchService
from tests.corpus import DEMO_DIR, corpus_file, seed_page

pytestmark = pytest.mark.slow  # hypothesis: many generated inputs per property


def _settings(examples: int) -> hypothesis.settings:
    """Bounded and in one fixed order, so CI runs the same examples every time."""
    return hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- what every parsed item must be ------------------------------------------------


def check_event(event: Event) -> None:
    """A complete, valid event: canonical JSON (valid id, real date, a title, every
    field checked) that reads back to the very same event."""
    assert isinstance(event, Event)
    assert isinstance(event.date, dt.date) and event.title.strip()
    assert parse_canonical(orjson.loads(orjson.dumps(event.to_dict()))) == event


def check_reject(reject: Reject, path: Path) -> None:
    assert reject.path == str(path)
    assert isinstance(reject.reason, str) and reject.reason.strip()
    assert reject.record is None or reject.record >= 1


def read(path: Path) -> list[Event | Reject]:
    """Everything ``read_file`` yields for ``path``, each item checked."""
    items = list(read_file(path))
    assert items, "a file gives at least one event or one reject"
    for item in items:
        if isinstance(item, Reject):
            check_reject(item, path)
        else:
            check_event(item)
    return items


# Words of markup rather than content: link labels, section and element names.
_MARKUP = {"formats", "html", "json", "xml", "news", "index", "sources", "related", "context"}
_MARKUP |= {"cover", "image", "events", "event", "date", "title", "body", "entities"}
_MARKUP |= {"entity", "source", "link", "category", "story", "url", "id"}


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W_]{3,}", text.lower())} - _MARKUP


def event_words(event: Event) -> set[str]:
    def flat(value: Any) -> str:
        if isinstance(value, dict):
            return " ".join(flat(v) for v in value.values())
        if isinstance(value, list):
            return " ".join(flat(v) for v in value)
        return "" if value is None else str(value)

    return words(flat(event.to_dict()))


def page_words(text: str) -> set[str]:
    """The words of an event page, but for the Formats and date lines (read for the id
    and the date, not kept as text)."""
    return {
        word
        for line in text.splitlines()
        if not line.startswith("Formats:") and not re.match(r"###\s*\[", line)
        for word in words(html.unescape(line))
    }


def xml_words(text: str) -> set[str]:
    root = ElementTree.fromstring(text)
    found: set[str] = set()
    for element in root.iter():
        found |= words(" ".join([*element.attrib.values(), element.text or "", element.tail or ""]))
    return found


def check_nothing_lost(data: bytes, events: list[Event]) -> None:
    """Every word of a page or XML document read without a reject is in its events."""
    text = data.decode("utf-8-sig")
    source = xml_words(text) if text.lstrip().startswith("<") else page_words(text)
    lost = source - set().union(*map(event_words, events))
    assert not lost, f"parsed, but these words went missing: {sorted(lost)[:8]}"


# -- documents to break ------------------------------------------------------------


def to_xml(events: list[Event]) -> bytes:
    """Canonical XML of ``events`` (the format's README example, field by field)."""
    out = ["<events>"]
    for event in events:
        out += [f"<event id={quoteattr(event.id)}>", f"  <date>{event.date}</date>"]
        for tag in ("title", "body", "category", "story", "image"):
            if getattr(event, tag):
                out.append(f"  <{tag}>{escape(getattr(event, tag))}</{tag}>")
        out += ["  <entities>", *(f"    <entity>{escape(e)}</entity>" for e in event.entities)]
        out += ["  </entities>", "  <sources>"]
        for source in event.sources:
            url = f" url={quoteattr(source.url)}" if source.url else ""
            out.append(f"    <source{url}>{escape(source.name)}</source>")
        out += ["  </sources>", "  <related>"]
        for link in event.related:
            attrs = f" id={quoteattr(link.id)}"
            attrs += f" date={quoteattr(str(link.date))}" if link.date else ""
            attrs += f" context={quoteattr(link.context)}" if link.context else ""
            out.append(f"    <link{attrs}>{escape(link.title)}</link>")
        out += ["  </related>", "</event>"]
    return "\n".join([*out, "</events>"]).encode()


@pytest.fixture(scope="module")
def documents() -> dict[str, bytes]:
    """Real documents of every format, by a file name of the right kind."""
    demo = sorted(DEMO_DIR.iterdir())
    pages = [seed_page(), *demo[:6]]
    events = [e for p in pages for e in read_file(p) if isinstance(e, Event)]
    assert len(events) == len(pages)
    records = json.loads(corpus_file().read_text(encoding="utf-8"))[:3]
    return {
        **{p.name: p.read_bytes() for p in pages},
        "wikitimes.json": json.dumps(records, indent=1, ensure_ascii=False).encode(),
        "event.json": orjson.dumps(events[0].to_dict(), option=orjson.OPT_INDENT_2),
        "events.jsonl": b"\n".join(orjson.dumps(e.to_dict()) for e in events[1:4]),
        "event.xml": to_xml(events[:1]),
        "events.xml": to_xml(events[1:4]),
    }


INSERTS = [
    *("&amp;", "&lt;", "&#x20;", "&#0;", "&#xD800;", "&#x1F600;", "&#9999999999;"),
    *("&bogus;", "&", "&#", "&nbsp;", "<b>extra</b>", ' lang="extra"', "<note>extra</note>"),
    *("<![CDATA[extra]]>", "<!-- extra -->", "\n### Notes:\n", "\n# extra\n", "\x00"),
]
IMPOSSIBLE_DATES = [b"2017-02-30", b"2017-13-01", b"0000-01-01", b"2017-00-10", b"2017-11-31"]
IMPOSSIBLE_NEWS_DATES = [b"/news/2017/13/45/", b"/news/0/0/0/", b"/news/2017/2/30/"]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to four of: a line deleted, repeated or swapped with another,
    a bit flipped, the end cut off, an entity, markup or text put in, a date made
    impossible."""
    for _ in range(draw(st.integers(1, 4))):
        lines = data.splitlines(keepends=True) or [b""]
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, len(data)))
        kind = draw(
            st.sampled_from(
                ["delete", "repeat", "swap", "flip", "cut", "insert", "text", "date", "news"]
            )
        )
        if kind == "delete":
            del lines[i]
        elif kind == "repeat":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        data = b"".join(lines)
        if kind == "flip" and at < len(data):
            flipped = data[at] ^ (1 << draw(st.integers(0, 7)))
            data = data[:at] + bytes([flipped]) + data[at + 1 :]
        elif kind == "cut":
            data = data[:at]
        elif kind in ("insert", "text"):
            piece = draw(st.sampled_from(INSERTS) if kind == "insert" else st.text(max_size=12))
            data = data[:at] + piece.encode() + data[at:]
        elif kind == "date" and (dates := list(re.finditer(rb"\d{4}-\d{2}-\d{2}", data))):
            found = dates[draw(st.integers(0, len(dates) - 1))]
            data = (
                data[: found.start()]
                + draw(st.sampled_from(IMPOSSIBLE_DATES))
                + data[found.end() :]
            )
        elif kind == "news":
            data = re.sub(
                rb"/news/\d+/\d+/\d+/", draw(st.sampled_from(IMPOSSIBLE_NEWS_DATES)), data
            )
    return data


SCALARS = st.one_of(
    st.sampled_from(["", " ", ",", " . , ", "2015-02-30", "0000-01-01", "a b", "x/y", "cep-1"]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON_VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["name", "url", "wikiURL", "sourceName", "id"]), SCALARS),
    st.lists(st.dictionaries(st.sampled_from(["name", "url", "wikiURL", "sourceName"]), SCALARS)),
)


@st.composite
def mutated_records(draw: st.DrawFn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` with one to three fields removed, added or given another JSON value."""
    records = [dict(r) for r in records]
    for _ in range(draw(st.integers(1, 3))):
        record = records[draw(st.integers(0, len(records) - 1))]
        field = draw(st.sampled_from([*record, "extra"]))
        if field in record and draw(st.booleans()):
            del record[field]
        else:
            record[field] = draw(JSON_VALUES)
    return records


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parser-properties")


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


# -- the properties ------------------------------------------------------------------

NAMES = st.sampled_from(["x.md", "x.txt", "x.json", "x.jsonl", "x.xml", "x", "x.bin", "X.MD"])
PREFIXES = [b"", b"{", b"[", b"<", b"<event>", b"### [2017-01-01](x)\n# ", b"Formats: "]


@_settings(500)
@given(
    name=NAMES,
    data=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(str.encode),
        st.tuples(st.sampled_from(PREFIXES), st.binary(max_size=200)).map(b"".join),
    ),
)
def test_arbitrary_bytes_are_read_or_rejected_never_raised(
    scratch: Path, name: str, data: bytes
) -> None:
    read(write(scratch, name, data))


@_settings(1000)
@given(data=st.data())
def test_broken_documents_give_whole_events_or_reasons(
    scratch: Path, documents: dict[str, bytes], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(documents)), label="document")
    broken = data.draw(mutated(documents[name]), label="broken")
    items = read(write(scratch, name, broken))
    events = [item for item in items if isinstance(item, Event)]
    if len(events) == len(items) and not name.endswith((".json", ".jsonl")):
        check_nothing_lost(broken, events)


@_settings(500)
@given(data=st.data(), lines=st.booleans())
def test_records_with_wrong_fields_give_whole_events_or_reasons(
    scratch: Path, documents: dict[str, bytes], data: st.DataObject, lines: bool
) -> None:
    name = data.draw(st.sampled_from(["wikitimes.json", "event.json", "events.jsonl"]))
    text = documents[name].decode()
    if name.endswith(".jsonl"):
        records = [json.loads(line) for line in text.splitlines()]
    else:
        value = json.loads(text)
        records = value if isinstance(value, list) else [value]
    broken = data.draw(mutated_records(records), label="records")
    document = "\n".join(json.dumps(r) for r in broken) if lines else json.dumps(broken)
    items = read(write(scratch, "records.json", document.encode()))
    assert len(items) == len(broken), "one event or one reject per record"


@_settings(20)
@given(data=st.data())
def test_rebuild_indexes_exactly_the_events_that_parsed(
    tmp_path_factory: pytest.TempPathFactory, documents: dict[str, bytes], data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("batch")
    names = sorted(documents)
    good = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    broken = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4))
    paths = [write(folder, f"good-{n}-{name}", documents[name]) for n, name in enumerate(good)]
    for n, name in enumerate(broken):
        paths.append(write(folder, f"broken-{n}-{name}", data.draw(mutated(documents[name]))))
    paths = data.draw(st.permutations(paths), label="order")

    items = [item for path in paths for item in read_file(path)]
    rejects = [item.to_dict() for item in items if isinstance(item, Reject)]
    expected = {e.id: e.to_dict() for e in items if isinstance(e, Event)}  # the last copy wins

    index = folder / "index"
    report = jobs.rebuild(IndexStore(index), paths, keep=0)
    assert report.rejected == len(rejects)
    assert report.files == len(paths)
    lines = (IndexStore(index).current().path / "rejects.jsonl").read_text().splitlines()
    assert [{k: v for k, v in json.loads(line).items() if k != "job"} for line in lines] == rejects
    service = SearchService(Config.from_env({}, index_dir=index))
    try:
        assert service.stats().documents == len(expected)
        for event_id, event in expected.items():
            assert service.event(event_id).to_dict() == event
    finally:
        service.close()


# -- what the properties found, kept as examples -------------------------------------

_WIKITIMES = {"id": "56657", "date": "2015-09-01", "description": "A thing happens. More."}
_PAGE = "### [2015-09-01](/news/2015/09/01/index.md)\n\n# A thing happens\n\nIt does.\n"
_XML = '<event id="a"><date>2015-09-01</date><title>A thing</title>{}</event>'
FOUND = [
    ({**_WIKITIMES, "entity": 5}, "entity must be a list, not int"),
    ({**_WIKITIMES, "source": [{"sourceName": " "}]}, "source[0] has no sourceName"),
    ({**_WIKITIMES, "description": " , "}, "record has no description"),
    (
        {**_WIKITIMES, "id": "5 6"},
        "id 'cep-5 6' is not valid: use up to 200 letters, digits and . _ ~ : -",
    ),
    (
        "Formats: [HTML](/news/2015/09/01/a-th&amp;ing.html)\n" + _PAGE,
        "Formats link id '2015-09-01-a-th&amp;ing' is not valid: "
        "use up to 200 letters, digits and . _ ~ : -",
    ),
    ("Lost paragraph.\n" + _PAGE, "line 1: text before the '# ' title"),
    (
        _PAGE + "\n### Background\n\nLost.\n",
        "line 7: unexpected heading '### Background'; "
        "a page has one '### Sources:' and one '### Related:' list",
    ),
    (
        _PAGE + "### Sources:\n\nLost words.\n",
        "line 8: expected a '1. [text](url)' item in '### Sources:'",
    ),
    (
        _XML.format("<body>Kept <b>lost</b></body>"),
        "<body> holds an element <b>; it takes text only",
    ),
    (_XML.format("<title>Lost</title>"), "more than one <title>"),
    (_XML.format("lost"), "text directly inside <event>, outside its elements"),
]


@pytest.mark.parametrize(("document", "reason"), FOUND)
def test_what_the_properties_found_is_rejected_with_its_reason(
    tmp_path: Path, document: str | dict[str, Any], reason: str
) -> None:
    data = json.dumps([document]) if isinstance(document, dict) else document
    path = write(tmp_path, "found.txt", data.encode())
    record = 1 if isinstance(document, dict) else None
    assert read(path) == [Reject(str(path), record, reason)]
