"""Reading files: the format is told from the content, not the file name.

A file may start with a UTF-8 byte order mark, whatever its format.  A file whose
first line is a JSON value and which has more lines is JSON Lines, read line by
line.  Otherwise the file is read whole as the format its first character tells
(JSON, XML, an event page); when that fails and at least half of its lines are
JSON objects on their own, it is JSON Lines with a broken first line.  In JSON
Lines each line is read on its own, so a broken line rejects that line only, with
its number.  Only regular files are read: a FIFO, socket or device is a reject,
never a wait.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from indexer.formats import jsontext
from indexer.formats.canonical import check_xml_element, parse_canonical, xml_to_record
from indexer.formats.limits import Limits
from indexer.formats.reject import InvalidRecord, Reject, not_regular
from indexer.formats.seed import looks_like_seed, parse_seed
from indexer.formats.wikitimes import is_wikitimes, parse_wikitimes
from search import Event

__all__ = ["read_file"]

Item = Event | Reject
_SNIFF = 64 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


def _record(value: Any, parsed: jsontext.Parsed, limits: Limits) -> Event:
    parsed.check(value)
    if isinstance(value, dict) and is_wikitimes(value):
        return limits.check(parse_wikitimes(value))
    return limits.check(parse_canonical(value))


def _records(path: str, parsed: jsontext.Parsed, limits: Limits) -> Iterator[Item]:
    """The events of one JSON document: an array of records, or one record."""
    if isinstance(parsed.value, list):
        numbered: Iterable[tuple[int | None, Any]] = enumerate(parsed.value, start=1)
    else:
        numbered = [(None, parsed.value)]
    for number, value in numbered:
        try:
            yield _record(value, parsed, limits)
        except InvalidRecord as exc:
            yield Reject(path, number, str(exc))


def _json_error(exc: Exception) -> str:
    return f"invalid JSON: {exc}"


def _decode(data: bytes) -> str:
    """UTF-8 bytes as text; InvalidRecord naming the first bad byte otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecord(
            f"not UTF-8 text (bad byte at offset {exc.start}): binary file?"
        ) from None


def _line(data: bytes) -> jsontext.Parsed:
    """One line of JSON Lines; InvalidRecord saying why it is not a JSON value."""
    try:
        return jsontext.loads(_decode(data))
    except jsontext.JSONError as exc:
        raise InvalidRecord(_json_error(exc)) from None


def _json_lines(path: str, lines: Iterable[tuple[int, bytes]], limits: Limits) -> Iterator[Item]:
    """Each non-blank line as a record; line numbers count blank lines too, so a
    reject points at the right line."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            parsed = _line(line)
            yield _record(parsed.value, parsed, limits)
        except InvalidRecord as exc:
            yield Reject(path, number, str(exc))


def _is_json_line(line: bytes) -> bool:
    """Whether a line, as it stands, is a JSON object starting at its first column:
    a line of JSON Lines, never a line inside an indented JSON document."""
    return line.startswith(b"{") and _is_json_object(line)


def _mostly_json_lines(data: bytes) -> bool:
    """Whether at least half of the non-blank lines (of two or more) are JSON objects
    on their own: then it is JSON Lines, some of whose lines are broken."""
    lines = [line for line in data.splitlines() if line.strip()]
    return len(lines) > 1 and 2 * sum(map(_is_json_line, lines)) >= len(lines)


def _streamed_json_lines(path: str, fh: IO[bytes], limits: Limits) -> Iterator[Item] | None:
    """The items of a file whose first non-blank line is a JSON object and which has
    another: JSON Lines, read line by line so that a large file is never held in
    memory whole.  None for any other file (``fh`` is then read from the start)."""
    start = fh.tell()
    numbered = enumerate(fh, start=1)
    leading: list[tuple[int, bytes]] = []
    filled: list[bytes] = []  # the first two non-blank lines
    for number, line in numbered:
        leading.append((number, line))
        if line.strip():
            filled.append(line)
            if len(filled) == 2:
                break
    if len(filled) < 2 or not _is_json_object(filled[0]):
        fh.seek(start)
        return None
    return _json_lines(path, itertools.chain(leading, numbered), limits)


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(_line(line).value, dict)
    except InvalidRecord:
        return False


def _document(data: bytes) -> jsontext.Parsed:
    """The file as one JSON document; InvalidRecord saying why it is not one."""
    try:
        return jsontext.loads(_decode(data))
    except jsontext.JSONError as exc:
        raise InvalidRecord(_json_error(exc)) from None


def _xml_events(text: str) -> tuple[list[Any], bool, Reject | None]:
    """The ``<event>`` elements of an XML text, whether they are numbered (in an
    ``<events>`` root), and a reject for text directly in the root (the events are
    still read).  InvalidRecord when the text is no XML of events."""
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise InvalidRecord(f"invalid XML: {exc}") from None
    if root.tag == "event":
        return [root], False, None
    if root.tag != "events":
        raise InvalidRecord(f"XML root is <{root.tag}>, expected <events> or <event>")
    try:
        check_xml_element(root)
    except InvalidRecord as exc:
        return list(root), True, Reject("", None, str(exc))
    return list(root), True, None


def _xml(path: str, text: str, limits: Limits) -> Iterator[Item]:
    elements, numbered, stray = _xml_events(text)
    if stray is not None:
        yield Reject(path, None, stray.reason)
    for number, element in enumerate(elements, start=1):
        try:
            if element.tag != "event":
                raise InvalidRecord(f"<{element.tag}> in <events>, expected <event>")
            yield limits.check(parse_canonical(xml_to_record(element)))
        except InvalidRecord as exc:
            yield Reject(path, number if numbered else None, str(exc))


def _whole(path: str, data: bytes, limits: Limits) -> list[Item]:
    """The items of a file read whole, by the format its first character tells.
    InvalidRecord when it cannot be read as that format at all."""
    begins = data.lstrip(b" \t\r\n")[:1]
    if begins in (b"{", b"["):
        return list(_records(path, _document(data), limits))
    text = _decode(data)
    if begins == b"<":
        return list(_xml(path, text, limits))
    if looks_like_seed(text):
        return [limits.check(parse_seed(text))]
    raise InvalidRecord(
        "not an event document: expected JSON, JSON Lines, XML, or an event page "
        "with a '### [YYYY-MM-DD](...)' date line"
    )


def _open(path: Path) -> IO[bytes]:
    """``path`` opened for reading when it is a regular file; InvalidRecord otherwise.

    The file is opened without waiting (``O_NONBLOCK``: opening a FIFO would wait for
    a writer) and its type is checked on the open file, so a file swapped for a FIFO
    after the directory was walked is refused too.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise InvalidRecord(f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InvalidRecord(not_regular(mode))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _read(path: Path, name: str, limits: Limits) -> Iterator[Item]:
    with _open(path) as fh:
        head = fh.read(_SNIFF)
        for bom, encoding in _OTHER_BOMS:
            if head.startswith(bom):
                raise InvalidRecord(
                    f"{encoding} text (it starts with a {encoding} byte order "
                    "mark): only UTF-8 is read"
                )
        start = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
        if not head[start:].strip(b" \t\r\n"):
            raise InvalidRecord("empty file")
        if b"\x00" in head:
            raise InvalidRecord("binary file (it contains NUL bytes), not an event document")
        fh.seek(start)
        lines = _streamed_json_lines(name, fh, limits)
        if lines is not None:
            yield from lines
            return
        data = fh.read()
    items: Iterable[Item]
    try:
        items = _whole(name, data, limits)
    except InvalidRecord:
        if not _mostly_json_lines(data):
            raise
        # JSON Lines whose first line is broken: each line is read on its own.
        items = _json_lines(name, enumerate(data.splitlines(keepends=True), start=1), limits)
    yield from items


def read_file(path: Path, limits: Limits | None = None) -> Iterator[Item]:
    """The events of one file, and a Reject for each file or record that is not one
    (or is beyond ``limits``: by default, the settings' defaults)."""
    name = str(path)
    try:
        yield from _read(path, name, limits or Limits.defaults())
    except InvalidRecord as exc:
        yield Reject(name, None, str(exc))
    except OSError as exc:
        yield Reject(name, None, f"cannot read: {exc.strerror or exc}")
