"""What the HTTP layer answers before the app, against real gunicorn with the project's
config over raw sockets: the one JSON error shape where gunicorn answered its own HTML
page, malformed chunked bodies 400 (never a 500), an oversized body 413 at once and
without ``100 Continue``, and pipelined and kept-alive requests served in order."""

from __future__ import annotations

import http.client
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.slow  # real gunicorn with the project's config

MAX_BODY = 8000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_index: Path) -> Iterator[Gunicorn]:
    # A body that is not sent would be waited for 20 s: every answer below that must
    # come "at once" comes well within the clients' 10 s socket limit, or the test fails.
    log = tmp_path_factory.mktemp("http-layer") / "gunicorn.log"
    with Gunicorn(
        demo_index, workers=1, log_path=log, max_body_bytes=str(MAX_BODY), body_timeout="20"
    ) as running:
        yield running


def _connect(server: Gunicorn) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _exchange(server: Gunicorn, wire: bytes) -> tuple[int, dict[str, str], Any]:
    """Send ``wire`` on a new connection; the status, headers and JSON body answered."""
    with _connect(server) as sock:
        sock.sendall(wire)
        return _read(sock)


class _KeptOpen(io.BufferedReader):
    def close(self) -> None:
        """Left open: the next answer is read from the same buffer."""


class _Stream:
    """A socket's one buffered reader, for reading answers one after another (each
    ``HTTPResponse`` of the socket itself would buffer, and lose, the next)."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = _KeptOpen(socket.SocketIO(sock, "rb"))

    def makefile(self, mode: str) -> Any:
        return self.file


def _read(sock: socket.socket | _Stream) -> tuple[int, dict[str, str], Any]:
    response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
    response.begin()
    headers = {k.lower(): v for k, v in response.getheaders()}
    return response.status, headers, json.loads(response.read())


def _assert_error(answer: tuple[int, dict[str, str], Any], status: int, code: str) -> str:
    got_status, headers, body = answer
    assert (got_status, body["error"]["code"]) == (status, code), body
    assert headers["content-type"] == "application/json"
    assert body["error"]["parameter"] is None
    assert body["error"]["message"]
    assert set(body) == {"error"}
    return str(body["error"]["message"])


@pytest.mark.parametrize(
    ("wire", "status", "code"),
    [
        (b"GET\r\n\r\n", 400, "bad_request"),
        (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bad_request"),
        (b"GET /healthz HTTP/7.0\r\n\r\n", 400, "bad_request"),
        (b"GET /healthz HTTP/1.1\r\nBad Name: 1\r\n\r\n", 400, "bad_request"),
        (b"POST /api/related HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "bad_request"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /healthz HTTP/1.1\r\nX-Huge: " + b"a" * 9000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", 431, "headers_too_large"),
        (b"POST /api/related HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417, "expectation_failed"),
        (
            b"POST /api/related HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
            "unsupported_transfer_coding",
        ),
        (
            b"POST /api/related HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n",
            501,
            "unsupported_transfer_coding",
        ),
        # RFC 9112 6.3: a coding that does not end with chunked leaves the body's
        # length unknown, which is a 400.
        (b"POST /api/related HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "bad_request"),
        (b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501, "method_not_implemented"),
    ],
    ids=[
        "no-target",
        "bare-lf",
        "version",
        "header-name",
        "negative-length",
        "long-line",
        "long-field",
        "many-fields",
        "expectation",
        "gzip-chunked",
        "unknown-coding",
        "gzip-alone",
        "unknown-method",
    ],
)
def test_the_http_layer_answers_in_the_json_error_shape(
    server: Gunicorn, wire: bytes, status: int, code: str
) -> None:
    answer = _exchange(server, wire)
    _assert_error(answer, status, code)
    # Logged as one JSON line under the id it was answered with, as the app logs.
    request_id = answer[1]["x-request-id"]
    logged = [r for r in _records(server) if r["request_id"] == request_id]
    assert [(r["status"], r["error"]) for r in logged] == [(status, code)]
    assert server.get("/healthz")[0] == 200


def _records(server: Gunicorn) -> list[dict[str, Any]]:
    return [json.loads(x) for x in server.output().splitlines() if x.startswith("{")]


CHUNKED = (
    b"POST /api/related HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.parametrize(
    "size",
    [b"-1", b"0x1c", b"+1c", b" 1c", b"1c ", b"1 c", b"", b"1_c", b"zz", b"1" * 9000],
    ids=["minus", "0x", "plus", "space-before", "space-after", "space-inside", "empty",
         "underscore", "not-hex", "huge-line"],
)  # fmt: skip
def test_a_malformed_chunk_size_is_400_never_500(server: Gunicorn, size: bytes) -> None:
    wire = CHUNKED + size + b"\r\n" + b'{"text": "refugees in Munich"}' + b"\r\n0\r\n\r\n"
    message = _assert_error(_exchange(server, wire), 400, "invalid_chunk")
    assert message.startswith("malformed chunked body")
    assert "Traceback" not in server.output()


def test_a_well_formed_chunked_body_is_served(server: Gunicorn) -> None:
    body = b'{"text": "refugees reach Munich by train", "size": 2}'
    wire = (
        CHUNKED
        + b"8;part=one\r\n"
        + body[:8]
        + b"\r\n"
        + b"%X\r\n" % (len(body) - 8)
        + body[8:]
        + b"\r\n0\r\n\r\n"
    )
    status, _, answer = _exchange(server, wire)
    assert status == 200, answer
    assert len(answer["results"]) == 2


@pytest.mark.parametrize("size", [b"1f41", b"ffffffffffffffffffffff"])
def test_an_oversized_chunk_is_413_at_once(server: Gunicorn, size: bytes) -> None:
    # 1f41 is 8001 bytes, one over the limit; the chunk's data is never sent.
    message = _assert_error(_exchange(server, CHUNKED + size + b"\r\n"), 413, "body_too_large")
    assert message == f"the body has more than {MAX_BODY} bytes"


def test_chunks_over_the_limit_together_are_413(server: Gunicorn) -> None:
    with _connect(server) as sock:
        sock.sendall(CHUNKED + b"fa0\r\n" + b"x" * 4000 + b"\r\n")
        sock.sendall(b"fa1\r\n")  # 4000 + 4001 bytes
        _assert_error(_read(sock), 413, "body_too_large")


def _head_with_expect(length: int) -> bytes:
    return (
        b"POST /api/related HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % length
    )


def test_100_continue_is_never_sent_before_a_413(server: Gunicorn) -> None:
    with _connect(server) as sock:
        sock.sendall(_head_with_expect(MAX_BODY + 1))
        stream = _Stream(sock)
        # Read by hand: http.client skips a 100 Continue before the final answer.
        first = stream.file.peek(64)[:32]
        assert first.startswith(b"HTTP/1.1 413 "), first
        status, _, body = _read(stream)
    assert status == 413
    assert body["error"] == {
        "code": "body_too_large",
        "message": f"the body has {MAX_BODY + 1} bytes; at most {MAX_BODY}",
        "parameter": None,
    }


def test_100_continue_is_sent_once_for_a_body_that_is_accepted(server: Gunicorn) -> None:
    body = b'{"text": "refugees reach Munich", "size": 1}'
    with _connect(server) as sock:
        sock.sendall(_head_with_expect(len(body)))
        stream = _Stream(sock)
        assert stream.file.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.file.readline() == b"\r\n"
        sock.sendall(body)
        # No second 100 (which http.client would skip unseen): the answer itself.
        assert stream.file.peek(64).startswith(b"HTTP/1.1 200 ")
        status, _, answer = _read(stream)
    assert status == 200
    assert len(answer["results"]) == 1


def test_pipelined_and_kept_alive_requests_are_answered_in_order(server: Gunicorn) -> None:
    def get(path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()

    with _connect(server) as sock:
        stream = _Stream(sock)
        sock.sendall(get("/healthz") + get("/api/events/no-such-id") + get("/api/stats"))
        assert _read(stream)[0] == 200
        assert _read(stream)[2]["error"]["code"] == "not_found"
        assert "documents" in _read(stream)[2]
        sock.sendall(get("/readyz"))  # the same connection, kept alive
        assert _read(stream)[0] == 200
