"""Reading files: the format is told from the content, not the file name."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from indexer.formats.canonical import check_xml_element, parse_canonical, xml_to_record
from indexer.formats.reject import InvalidRecord, Reject
from indexer.formats.seed import looks_like_seed, parse_seed
from indexer.formats.wikitimes import is_wikitimes, parse_wikitimes
from search.event import Event

__all__ = ["read_file"]

Item = Event | Reject
_SNIFF = 64 * 1024


def _record(value: Any) -> Event:
    if isinstance(value, dict) and is_wikitimes(value):
        return parse_wikitimes(value)
    return parse_canonical(value)


def _records(path: str, values: Any, numbered: bool) -> Iterator[Item]:
    for number, value in enumerate(values, start=1):
        try:
            yield _record(value)
        except InvalidRecord as exc:
            yield Reject(path, number if numbered else None, str(exc))


def _json_error(exc: Exception) -> str:
    return f"invalid JSON: {exc}"


def _json_lines(path: str, first: bytes, fh: IO[bytes]) -> Iterator[Item]:
    pending = [(1, first)]
    number = 1
    for line in fh:
        number += 1
        if line.strip():
            pending.append((number, line))
            break
    if len(pending) == 1:  # a lone object on one line is a document, not a stream
        yield from _records(path, [orjson.loads(first)], numbered=False)
        return
    lines = itertools.chain(pending, enumerate(fh, start=number + 1))
    # Line numbers count blank lines too, so a reject points at the right line.
    for number, line in lines:
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Reject(path, number, _json_error(exc))
            continue
        try:
            yield _record(value)
        except InvalidRecord as exc:
            yield Reject(path, number, str(exc))


def _xml(path: str, text: str) -> Iterator[Item]:
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        yield Reject(path, None, f"invalid XML: {exc}")
        return
    if root.tag == "event":
        elements, numbered = [root], False
    elif root.tag == "events":
        elements, numbered = list(root), True
        try:
            check_xml_element(root)
        except InvalidRecord as exc:  # the events are still read
            yield Reject(path, None, str(exc))
    else:
        yield Reject(path, None, f"XML root is <{root.tag}>, expected <events> or <event>")
        return
    for number, element in enumerate(elements, start=1):
        try:
            if element.tag != "event":
                raise InvalidRecord(f"<{element.tag}> in <events>, expected <event>")
            yield parse_canonical(xml_to_record(element))
        except InvalidRecord as exc:
            yield Reject(path, number if numbered else None, str(exc))


def read_file(path: Path) -> Iterator[Item]:
    """The events of one file, and a Reject for each file or record that is not one."""
    name = str(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        yield Reject(name, None, f"cannot read: {exc.strerror or exc}")
        return
    try:
        head = fh.read(_SNIFF)
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not stripped:
            yield Reject(name, None, "empty file")
            return
        if b"\x00" in head:
            yield Reject(name, None, "binary file (it contains NUL bytes), not an event document")
            return
        if stripped[:1] == b"{":
            # One object per line is JSON Lines, read as a stream; otherwise one document.
            fh.seek(0)
            first = fh.readline()
            try:
                orjson.loads(first)
                one_line_value = True
            except orjson.JSONDecodeError:
                one_line_value = False
            if one_line_value:
                yield from _json_lines(name, first, fh)
                return
        fh.seek(0)
        data = fh.read()
    except OSError as exc:
        yield Reject(name, None, f"cannot read: {exc.strerror or exc}")
        return
    finally:
        fh.close()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Reject(name, None, f"not UTF-8 text (bad byte at offset {exc.start}): binary file?")
        return
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield Reject(name, None, _json_error(exc))
            return
        if isinstance(value, list):
            yield from _records(name, value, numbered=True)
        else:
            yield from _records(name, [value], numbered=False)
    elif start == "<":
        yield from _xml(name, text)
    elif looks_like_seed(text):
        try:
            yield parse_seed(text)
        except InvalidRecord as exc:
            yield Reject(name, None, str(exc))
    else:
        yield Reject(
            name,
            None,
            "not an event document: expected JSON, JSON Lines, XML, or an event page "
            "with a '### [YYYY-MM-DD](...)' date line",
        )
