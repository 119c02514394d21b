"""Requests framed as their bytes arrive (api/framing.py), with gunicorn's own parser
and configuration: whatever way the bytes are split, the same request or the same
refusal, and a refusal as soon as the bytes so far make one certain."""

from __future__ import annotations

from typing import Any

import pytest
from gunicorn.config import Config as GunicornConfig

from api.errors import status_of
from api.framing import BodyStarts, Ready, Refusal, RequestFramer

MAX_BODY = 1000
UNSUPPORTED = "unsupported_transfer_coding"
PEER = ("127.0.0.1", 40000)


def _framer() -> RequestFramer:
    return RequestFramer(GunicornConfig(), PEER, MAX_BODY)


def _feed(framer: RequestFramer, data: bytes, piece: int) -> list[Any]:
    """Feed ``data`` ``piece`` bytes at a time, stepping after each until a request is
    ready (what follows it is only fed); every outcome that is not None."""
    outcomes: list[Any] = []
    for start in range(0, len(data), piece):
        framer.feed(data[start : start + piece])
        while not (outcomes and isinstance(outcomes[-1], Ready)):
            outcome = framer.step()
            if outcome is None:
                break
            outcomes.append(outcome)
    return outcomes


def _refusal(data: bytes, piece: int = 1 << 20) -> Refusal:
    with pytest.raises(Refusal) as caught:
        _feed(_framer(), data, piece)
    return caught.value


CHUNKED_HEAD = (
    b"POST /api/related HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.parametrize("piece", [1, 3, 7, 1 << 20])
def test_a_chunked_body_split_anywhere_is_one_request_with_its_body(piece: int) -> None:
    body = b'{"text": "refugees reach Munich"}'
    # RFC 9112 7.1: hex sizes in either case, extensions, a trailer field.
    wire = (
        CHUNKED_HEAD
        + b"A;name=value\r\n"
        + body[:10]
        + b"\r\n"
        + b'%x ; quoted="a b"\r\n' % (len(body) - 10)
        + body[10:]
        + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
        + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    framer = _framer()
    outcomes = _feed(framer, wire, piece)
    assert outcomes[0] == BodyStarts(expects_continue=False)
    ready = outcomes[-1]
    assert isinstance(ready, Ready) and not ready.late
    assert ready.request.method == "POST"
    assert ready.request.body.read() == body
    # The pipelined request behind it stays for the next step.
    following = framer.step()
    assert isinstance(following, Ready)
    assert (following.request.method, following.request.path) == ("GET", "/healthz")


@pytest.mark.parametrize(
    "size",
    [b"-1", b"0x1c", b"+1c", b" 1c", b"1c ", b"1 c", b"1_c", b"", b"1c\t", b"g", b"\xff"],
    ids=repr,
)
@pytest.mark.parametrize("piece", [1, 1 << 20])
def test_a_malformed_chunk_size_is_refused_400(size: bytes, piece: int) -> None:
    refusal = _refusal(CHUNKED_HEAD + size + b"\r\n" + b"x" * 28 + b"\r\n0\r\n\r\n", piece)
    assert refusal.code == "invalid_chunk"
    assert status_of(refusal.code) == 400
    assert refusal.message.startswith("malformed chunked body: ")


def test_a_bad_chunk_size_is_refused_before_its_line_ends() -> None:
    framer = _framer()
    _feed(framer, CHUNKED_HEAD, 1 << 20)
    framer.feed(b"-")  # no CRLF yet: nothing that follows can make it a size
    with pytest.raises(Refusal) as caught:
        framer.step()
    assert caught.value.code == "invalid_chunk"


def test_a_chunk_size_line_without_end_is_refused() -> None:
    # gunicorn's limit for one header field bounds a chunk-size line too (8,190 bytes).
    refusal = _refusal(CHUNKED_HEAD + b"0" * 9000)
    assert refusal.code == "invalid_chunk"
    assert "8190" in refusal.message


@pytest.mark.parametrize(
    ("chunks", "why"),
    [
        (b"1c\r\n" + b"x" * 28 + b"XX0\r\n\r\n", "no CRLF after the data"),
        (b"1;=v\r\nx\r\n0\r\n\r\n", "an extension without a name"),
        (b"1\r\nx\r\n0\r\nBad Trailer: 1\r\n\r\n", "a trailer name with a space"),
    ],
)
def test_other_malformed_chunked_bodies_are_refused_400(chunks: bytes, why: str) -> None:
    assert _refusal(CHUNKED_HEAD + chunks).code == "invalid_chunk", why


@pytest.mark.parametrize(
    "sizes",
    [[b"ffffffffffffffffffffffffffff"], [b"3e9"], [b"1f4", b"1f5"]],  # 1001 bytes in all
    ids=["huge", "one-over", "two-over"],
)
def test_a_chunk_over_the_body_limit_is_refused_413_on_its_size_line(sizes: list[bytes]) -> None:
    framer = _framer()
    _feed(framer, CHUNKED_HEAD, 1 << 20)
    with pytest.raises(Refusal) as caught:
        for size in sizes:
            framer.feed(size + b"\r\n")  # the data is never sent
            framer.step()
            framer.feed(b"x" * int(size, 16) + b"\r\n")
            framer.step()
    assert caught.value.code == "body_too_large"
    assert status_of("body_too_large") == 413
    assert caught.value.message == f"the body has more than {MAX_BODY} bytes"


def test_a_content_length_over_the_limit_is_refused_before_100_continue() -> None:
    head = (
        b"POST /api/related HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n"
    )
    refusal = _refusal(head % (MAX_BODY + 1))
    assert refusal.code == "body_too_large"
    assert refusal.message == f"the body has {MAX_BODY + 1} bytes; at most {MAX_BODY}"
    framer = _framer()
    assert _feed(framer, head % 2, 1 << 20) == [BodyStarts(expects_continue=True)]
    framer.feed(b"{}")
    ready = framer.step()
    assert isinstance(ready, Ready)
    # The loop answers the expectation; the request the app gets has none left.
    assert ("EXPECT", "100-continue") not in ready.request.headers
    assert ready.request.body.read() == b"{}"


def test_a_body_cut_at_its_deadline_is_what_arrived_and_closes() -> None:
    framer = _framer()
    _feed(framer, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 1 << 20)
    cut = framer.cut()
    assert cut is not None and cut.late
    assert cut.request.body.read() == b"abc"
    assert cut.request.should_close()


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"GET /" + b"a" * 9000, "uri_too_long"),  # refused before the line ends
        (b"GET /healthz HTTP/1.1\r\nX-Huge: " + b"a" * 9000 + b"\r\n\r\n", "headers_too_large"),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", "headers_too_large"),
        (b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 8000 + b"\r\n" * 0, "headers_too_large"),
        (b"GET\r\n\r\n", "bad_request"),
        (b"GET /healthz HTTP/1.1\nHost: x\n\n", "bad_request"),  # bare LF, refused at once
        (b"GET /healthz HTTP/9.9\r\n\r\n", "bad_request"),
        (b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "bad_request"),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "bad_request"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", UNSUPPORTED),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n", UNSUPPORTED),
        (b"POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", "expectation_failed"),
    ],
    ids=[
        "long-line",
        "long-field",
        "many-fields",
        "long-partial-field",
        "no-target",
        "bare-lf",
        "version",
        "length-not-a-number",
        "two-lengths",
        "gzip-chunked",
        "unknown-coding",
        "expectation",
    ],
)
def test_heads_the_http_layer_refuses(wire: bytes, code: str) -> None:
    if code == "headers_too_large" and not wire.endswith(b"\r\n\r\n"):
        wire = wire + b"b" * 900_000  # a head that never ends, past the head limit
    assert _refusal(wire).code == code
    assert _refusal(wire, 1000).code == code
