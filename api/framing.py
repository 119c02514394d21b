"""HTTP/1.1 requests framed as their bytes arrive, so that the gunicorn worker's event
loop can read them without a thread (``api/worker.py``): only whole requests, head and
body, reach the application's threads.

``RequestFramer`` is fed what a connection receives and says, at each step, whether
it needs more bytes (``None``), whether a body has begun (``BodyStarts``, when the
body's deadline starts and ``100 Continue`` is owed), or that a whole request is
ready (``Ready``: gunicorn's ``Request``, parsed from exactly its bytes, with its
body).  What cannot be served raises ``Refusal``, the status and the registry's code
to answer with (``api/errors.py``):

- the head is parsed by gunicorn's own parser once it is whole; its errors map to
  400 ``bad_request``, 414 ``uri_too_long``, 431 ``headers_too_large``, 417
  ``expectation_failed`` and 501 ``unsupported_transfer_coding``;
- a head over the limits is refused as soon as it is, without waiting for its end:
  a request line over ``limit_request_line`` (414), a head over the space
  ``limit_request_fields`` fields of ``limit_request_field_size`` bytes take (431);
- a body over ``max_body_bytes`` is refused (413 ``body_too_large``) as soon as its
  ``Content-Length`` or a chunk's size says so, before any ``100 Continue``;
- a chunked body is checked chunk by chunk (RFC 9112 section 7.1): a chunk size
  that is not hexadecimal digits (``-1``, ``0x1c``, ``+1c``, `` 1c``, empty), a
  chunk-size line over ``limit_request_field_size`` bytes, a chunk not followed by
  CRLF, or a bad extension or trailer is 400 ``invalid_chunk``;
- a transfer coding other than ``chunked`` alone (``gzip, chunked``) is 501.

Sizes are bytes; nothing here reads a clock or a socket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gunicorn.http import errors as http_errors
from gunicorn.http.body import CHUNK_EXT_RE, ChunkedReader, LengthReader
from gunicorn.http.message import Request
from gunicorn.http.unreader import IterUnreader

__all__ = ["BodyStarts", "Ready", "Refusal", "RequestFramer"]

_HEX = frozenset(b"0123456789abcdefABCDEF")
_EXPECT_LINE = re.compile(rb"\r\nexpect:[^\r]*(?=\r\n)", re.IGNORECASE)


class Refusal(Exception):
    """A request that is answered with the registry's ``code`` (its status from
    ``api/errors.py``) and ``message``, and its connection closed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BodyStarts:
    """The head is whole and a body follows; ``expects_continue``: the client waits
    for ``100 Continue`` before sending it."""

    expects_continue: bool


@dataclass(frozen=True)
class Ready:
    """A whole request: gunicorn's ``Request`` with its body, which reads no socket.
    ``late``: its body was cut at its deadline (what had arrived is its body)."""

    request: Any  # gunicorn.http.message.Request
    late: bool = False


def _head_refusal(exc: Exception) -> Refusal:
    """The answer to one of gunicorn's errors about a request head."""
    detail = str(exc).strip()
    if isinstance(exc, http_errors.LimitRequestLine):
        return Refusal("uri_too_long", f"the request line is too long: {detail}")
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return Refusal("headers_too_large", f"the header fields are too large: {detail}")
    if isinstance(exc, http_errors.UnsupportedTransferCoding):
        return Refusal("unsupported_transfer_coding", f"unsupported transfer coding {detail}")
    if isinstance(exc, http_errors.ExpectationFailed):
        return Refusal("expectation_failed", f"unsupported expectation {detail}")
    for kind, lead in _BAD_HEADS:
        if isinstance(exc, kind):
            return Refusal("bad_request", f"{lead}: {detail}" if detail else lead)
    return Refusal("bad_request", f"invalid request: {detail or type(exc).__name__}")


# gunicorn's other errors about a head, each a 400, and how they are told.
_BAD_HEADS: tuple[tuple[type[Exception], str], ...] = (
    (http_errors.InvalidRequestMethod, "invalid method"),
    (http_errors.InvalidHTTPVersion, "invalid HTTP version"),
    (http_errors.InvalidRequestLine, "invalid request line"),
    (http_errors.ObsoleteFolding, "obsolete line folding in header"),
    (http_errors.InvalidHeaderName, "invalid header name"),
    (http_errors.InvalidHeader, "invalid header"),
)


def _chunk_refusal(message: str) -> Refusal:
    return Refusal("invalid_chunk", f"malformed chunked body: {message}")


class _Chunks:
    """Where a chunked body ends, found as its bytes arrive (RFC 9112 section 7.1)."""

    def __init__(self, start: int, max_bytes: int, line_limit: int, trailer_limit: int) -> None:
        self.pos = start  # where in the buffer scanning resumes
        self.size: int | None = None  # bytes of the current chunk still to come
        self.total = 0
        self.trailers = False
        self.max_bytes = max_bytes
        self.line_limit = line_limit
        self.trailer_limit = trailer_limit

    def end(self, buf: bytearray) -> int | None:
        """The offset just past the body in ``buf``, or None while it is incomplete;
        Refusal when it is malformed or too large."""
        while True:
            if self.trailers:
                return self._trailers_end(buf)
            if self.size is None:
                if not self._size_line(buf):
                    return None
            elif len(buf) - self.pos < self.size + 2:
                return None
            else:
                if buf[self.pos + self.size : self.pos + self.size + 2] != b"\r\n":
                    raise _chunk_refusal("a chunk's data is not followed by CRLF")
                self.pos += self.size + 2
                self.size = None

    def _size_line(self, buf: bytearray) -> bool:
        idx = buf.find(b"\r\n", self.pos, self.pos + self.line_limit + 2)
        line = bytes(buf[self.pos : idx if idx >= 0 else self.pos + self.line_limit + 1])
        if len(line) > self.line_limit:
            raise _chunk_refusal(f"a chunk-size line over {self.line_limit} bytes")
        size, semicolon, extension = line.partition(b";")
        if semicolon:
            size = size.rstrip(b" \t")  # whitespace only before an extension
        # A line still arriving may end in the CR of its CRLF, or in the whitespace
        # allowed before an extension.
        digits = size if idx >= 0 or semicolon else size.rstrip(b"\r \t")
        bad = next((chr(b) for b in digits if b not in _HEX), None)
        if bad is not None:
            raise _chunk_refusal(
                f"chunk size {size.decode('latin-1')!r} has {bad!r}: hexadecimal digits only"
            )
        if idx < 0:
            return False
        if not size:
            raise _chunk_refusal("a chunk size is empty")
        if semicolon and not CHUNK_EXT_RE.fullmatch(b";" + extension):
            raise _chunk_refusal("a chunk extension is not token[=value]")
        value = int(size, 16)
        self.total += value
        if self.total > self.max_bytes:
            raise Refusal("body_too_large", f"the body has more than {self.max_bytes} bytes")
        self.pos = idx + 2
        if value == 0:
            self.trailers = True
        else:
            self.size = value
        return True

    def _trailers_end(self, buf: bytearray) -> int | None:
        if buf[self.pos : self.pos + 2] == b"\r\n":
            return self.pos + 2
        idx = buf.find(b"\r\n\r\n", self.pos)
        if idx >= 0:
            return idx + 4
        if len(buf) - self.pos > self.trailer_limit:
            raise _chunk_refusal(f"trailer fields over {self.trailer_limit} bytes")
        return None


class RequestFramer:
    """One connection's requests, framed from the bytes ``feed`` gives it.

    ``cfg`` is gunicorn's configuration (its header limits are the ones gunicorn's
    parser applies), ``peer`` the client's address, ``max_body_bytes`` the largest
    body accepted.  Call ``step()`` after each ``feed`` until it returns None."""

    def __init__(self, cfg: Any, peer: Any, max_body_bytes: int) -> None:
        self.cfg = cfg
        self.peer = peer
        self.max_body_bytes = max_body_bytes
        self.buf = bytearray()
        self.requests = 0
        line = cfg.limit_request_line or 8190
        field = cfg.limit_request_field_size or 8190
        fields = cfg.limit_request_fields or 100
        self.line_limit = line + 2
        self.head_limit = line + 2 + fields * (field + 2) + 4
        self.field_limit = field
        self.trailer_limit = fields * (field + 2) + 4
        self._reset()

    def _reset(self) -> None:
        self.scanned = 0  # how much of the head has been searched for its end
        self.head: bytes | None = None
        self.head_request: Any = None
        self.length = 0
        self.chunks: _Chunks | None = None
        self.expects_continue = False

    @property
    def method_and_path(self) -> tuple[str | None, str | None]:
        """The method and path of the request whose body is arriving, or Nones."""
        request = self.head_request
        return (request.method, request.path) if request is not None else (None, None)

    @property
    def idle(self) -> bool:
        """Nothing of a next request has arrived."""
        return self.head is None and not self.buf

    @property
    def in_body(self) -> bool:
        """The head is whole and its body is arriving."""
        return self.head is not None

    def feed(self, data: bytes) -> None:
        """Bytes the connection received."""
        self.buf += data

    def step(self) -> BodyStarts | Ready | None:
        """What the bytes so far make: see the module's docstring."""
        if self.head is None:
            return self._head()
        end = self._body_end()
        return None if end is None else self._ready(end, late=False)

    def cut(self) -> Ready | None:
        """The body's deadline has passed: its request with what has arrived of it
        (marked late), or None when no body was arriving."""
        if self.head is None:
            return None
        return self._ready(len(self.buf), late=True)

    def _head(self) -> BodyStarts | Ready | None:
        idx = self.buf.find(b"\r\n\r\n", max(0, self.scanned - 3))
        if idx < 0:
            self._check_partial_head()
            self.scanned = len(self.buf)
            return None
        head = bytes(self.buf[: idx + 4])
        self.requests += 1
        try:
            request = Request(self.cfg, IterUnreader([head]), self.peer, self.requests)
        except (http_errors.ParseException, http_errors.NoMoreData) as exc:
            raise _head_refusal(exc) from None
        codings = [v for n, v in request.headers if n == "TRANSFER-ENCODING"]
        chunked = bool(codings)
        if chunked and [c.strip(" \t").lower() for c in ",".join(codings).split(",")] != [
            "chunked"
        ]:
            raise Refusal(
                "unsupported_transfer_coding",
                f"Transfer-Encoding {', '.join(codings)!r}: only chunked is supported",
            )
        self.head_request = request  # named in the log if it is refused
        reader = request.body.reader
        length = reader.length if isinstance(reader, LengthReader) else 0
        if length > self.max_body_bytes:
            raise Refusal(
                "body_too_large", f"the body has {length} bytes; at most {self.max_body_bytes}"
            )
        del self.buf[: idx + 4]
        if not chunked and length == 0:
            self._reset()
            return Ready(request)
        self.head, self.length = head, length
        if chunked:
            self.chunks = _Chunks(0, self.max_body_bytes, self.field_limit, self.trailer_limit)
        self.expects_continue = request.version >= (1, 1) and any(
            n == "EXPECT" and v.strip(" \t").lower() == "100-continue" for n, v in request.headers
        )
        return BodyStarts(self.expects_continue)

    def _check_partial_head(self) -> None:
        """Refuse a head that is over the limits or can never end, before its end."""
        new = self.buf[max(0, self.scanned - 1) :]
        bare_lf = new.count(b"\n") != new.count(b"\r\n")
        too_long = len(self.buf) > self.head_limit or (
            len(self.buf) > self.line_limit and self.buf.find(b"\r\n", 0, self.line_limit) < 0
        )
        if not (bare_lf or too_long):
            return
        try:  # gunicorn's parser says what is wrong
            Request(self.cfg, IterUnreader([bytes(self.buf)]), self.peer, self.requests + 1)
        except (http_errors.ParseException, http_errors.NoMoreData) as exc:
            if not isinstance(exc, http_errors.NoMoreData):
                raise _head_refusal(exc) from None
        if too_long:
            raise Refusal("headers_too_large", "the request head is too large")

    def _body_end(self) -> int | None:
        if self.chunks is not None:
            return self.chunks.end(self.buf)
        return self.length if len(self.buf) >= self.length else None

    def _ready(self, end: int, late: bool) -> Ready:
        assert self.head is not None
        head = self.head
        if self.expects_continue:
            # The loop has answered the expectation; gunicorn must not answer it again.
            head = _EXPECT_LINE.sub(b"", head)
        body = bytes(self.buf[:end])
        del self.buf[:end]
        if self.chunks is not None and not late:
            # gunicorn's reader decodes it again for the application; it must agree.
            reader = ChunkedReader(self.head_request, IterUnreader([body]))
            try:
                while reader.read(1 << 16):
                    pass
            except (http_errors.ParseException, http_errors.NoMoreData) as exc:
                raise _chunk_refusal(str(exc) or type(exc).__name__) from None
        request = Request(self.cfg, IterUnreader([head + body]), self.peer, self.requests)
        if late:
            request.force_close()  # where the next request would start is unknown
        self._reset()
        return Ready(request, late)
