"""Settings of the event search service.

Every setting has a name, a default, help text and an environment variable
(``EVENTSEARCH_`` + the upper-case name).  ``Config.from_env()`` reads the
environment; nothing is read at import time.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SETTINGS", "Config", "ConfigError", "Setting"]

ENV_PREFIX = "EVENTSEARCH_"


class ConfigError(ValueError):
    """A setting's value in the environment cannot be used."""


def _paths(value: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _words(value: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in value.split(",") if w.strip())


def _stemmer(value: str) -> str:
    choices = ("minimal", "porter2")
    if value not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}")
    return value


def _metrics_bind(value: str) -> str:
    value = value.strip()
    if value in ("", "off"):
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be empty, off, or HOST:PORT")
    return value


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be greater than 0")
    return number


@dataclasses.dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        """The environment variable that overrides the default."""
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("index_dir", "var/index", "Directory that holds the index generations.", Path),
    Setting(
        "corpus_paths",
        "data/demo",
        "Files or directories `indexer rebuild` reads when given no PATH (separated by `:`).",
        _paths,
    ),
    Setting(
        "keep_generations",
        "2",
        "How many earlier index generations a rebuild keeps beside the live one.",
        _non_negative_int,
    ),
    Setting(
        "stemmer",
        "minimal",
        "How `indexer rebuild` stems English words: `minimal` (plural s only) or `porter2`. "
        "A generation keeps the stemmer it was built with.",
        _stemmer,
    ),
    Setting(
        "index_processes",
        "0",
        "Processes `indexer rebuild` analyses and writes with (0: one per core).",
        _non_negative_int,
    ),
    Setting(
        "max_event_body_bytes",
        "1048576",
        "Largest event body the indexer accepts, in bytes of UTF-8 (larger: the event is "
        "rejected).",
        _positive_int,
    ),
    Setting(
        "max_title_length",
        "500",
        "Longest event title the indexer accepts, in characters (longer: the event is rejected).",
        _positive_int,
    ),
    Setting(
        "max_event_entities",
        "500",
        "Most entities one event may name (more: the event is rejected).",
        _positive_int,
    ),
    Setting(
        "max_event_sources",
        "100",
        "Most sources one event may cite (more: the event is rejected).",
        _positive_int,
    ),
    Setting(
        "max_event_related",
        "100",
        "Most related-event links one event may hold (more: the event is rejected).",
        _positive_int,
    ),
    Setting(
        "max_value_length",
        "2000",
        "Longest entity, source name, address, category, story or related-link text the "
        "indexer accepts, in characters (longer: the event is rejected).",
        _positive_int,
    ),
    Setting(
        "refresh_interval",
        "0.5",
        "Seconds between a worker's checks for a new index generation or new writes.",
        _positive_float,
    ),
    Setting(
        "postings_cache_mb",
        "64",
        "Memory each worker may keep term postings and phrase matches in, in MB.",
        _non_negative_int,
    ),
    Setting(
        "max_query_length",
        "1000",
        "Longest query string accepted, in characters (longer: 400 `query_too_long`).",
        _positive_int,
    ),
    Setting(
        "max_query_terms",
        "64",
        "Most terms a query may have (more: 400 `too_many_terms`).",
        _positive_int,
    ),
    Setting(
        "max_expansions",
        "512",
        "Most index terms one `prefix*` may expand to (more: 400 `too_many_expansions`).",
        _positive_int,
    ),
    Setting(
        "max_edits",
        "2",
        "Most edits a fuzzy term (`word~2`) may allow (more: 400 `too_many_edits`).",
        _non_negative_int,
    ),
    Setting(
        "max_slop",
        "1000",
        'Most words a sloppy phrase (`"a b"~N`) may allow between its words (more: 400 '
        "`slop_too_large`).",
        _positive_int,
    ),
    Setting(
        "max_result_window",
        "10000",
        "Largest `page * size` accepted (deeper: 400 `result_window_too_large`).",
        _positive_int,
    ),
    Setting(
        "max_facet_size",
        "100",
        "Largest `facet_size` accepted.",
        _positive_int,
    ),
    Setting(
        "max_related_text",
        "20000",
        "Longest text, in characters, `POST /api/related` accepts (longer: 413 `text_too_long`).",
        _positive_int,
    ),
    Setting(
        "max_body_bytes",
        "65536",
        "Largest request body accepted, in bytes (larger: 413 `body_too_large`).",
        _positive_int,
    ),
    Setting(
        "search_timeout",
        "2.0",
        "Seconds a search may run, counted from the request's start; then it answers with "
        "what it has, flagged `timed_out`, or 503 `search_timeout` when it has nothing.",
        _positive_float,
    ),
    Setting(
        "search_concurrency",
        "1",
        "Searches (and related-event lookups) one worker runs at once; more wait for a "
        "turn within their time limit. Searching is CPU-bound and a worker runs Python "
        "code on one core at a time: more at once only share that core.",
        _positive_int,
    ),
    Setting(
        "body_timeout",
        "10",
        "Seconds a client has to send a request body once its headers are in "
        "(slower: 408 `body_timeout`); keep it below `EVENTSEARCH_TIMEOUT`.",
        _positive_float,
    ),
    Setting(
        "header_timeout",
        "10",
        "Seconds a client has to send a whole request head (request line and header "
        "fields), from the connection's opening or, on a kept-alive connection, from its "
        "first byte (slower: 408 `header_timeout`). The worker's event loop reads heads "
        "and bodies, so a slow client holds no thread meanwhile.",
        _positive_float,
    ),
    Setting(
        "cors_origins",
        "",
        "Origins whose pages may call the API (comma-separated, `*` for any; empty: CORS off).",
        _words,
    ),
    Setting("bind", "127.0.0.1:8000", "Address gunicorn listens on."),
    Setting(
        "workers",
        "2",
        "gunicorn worker processes; searching is CPU-bound, so one per core.",
        _positive_int,
    ),
    Setting(
        "threads",
        "64",
        "Threads per worker: how many whole requests one worker runs at once. The worker's "
        "event loop reads each request (head and body) before a thread takes it, so "
        "clients still sending, idle or kept-alive connections hold no thread.",
        _positive_int,
    ),
    Setting(
        "worker_connections",
        "1000",
        "Connections one worker holds at once: being read, served or kept alive (more "
        "wait in the listen queue). Each takes a file descriptor; the worker raises its "
        "open-files limit to this plus 256 where the hard limit allows.",
        _positive_int,
    ),
    Setting(
        "keepalive",
        "2",
        "Seconds an idle connection is kept open for its next request.",
        _positive_int,
    ),
    Setting(
        "timeout",
        "30",
        "Seconds one request may run; then its worker is restarted and every request it "
        "was serving is answered 500 `worker_timeout`.",
        _positive_int,
    ),
    Setting(
        "graceful_timeout",
        "10",
        "Seconds workers get to finish in-flight requests on SIGTERM or SIGHUP.",
        _positive_int,
    ),
    Setting(
        "max_requests",
        "10000",
        "Requests after which a worker is replaced (0: never), which bounds memory growth.",
        _non_negative_int,
    ),
    Setting(
        "max_requests_jitter",
        "1000",
        "Random extra requests added to `max_requests`, so workers do not restart together.",
        _non_negative_int,
    ),
    Setting(
        "metrics_bind",
        "",
        "Where `GET /metrics` is served: empty for the service's own address, `off` for "
        "nowhere, or HOST:PORT for only there (gunicorn listens on it too).",
        _metrics_bind,
    ),
    Setting("log_level", "info", "Log level of the service: debug, info, warning or error."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclasses.dataclass(frozen=True)
class Config:
    """The service's settings, parsed.  Build with ``Config.from_env()``."""

    index_dir: Path
    corpus_paths: tuple[Path, ...]
    keep_generations: int
    stemmer: str
    index_processes: int
    max_event_body_bytes: int
    max_title_length: int
    max_event_entities: int
    max_event_sources: int
    max_event_related: int
    max_value_length: int
    refresh_interval: float
    postings_cache_mb: int
    max_query_length: int
    max_query_terms: int
    max_expansions: int
    max_edits: int
    max_slop: int
    max_result_window: int
    max_facet_size: int
    max_related_text: int
    max_body_bytes: int
    search_timeout: float
    search_concurrency: int
    body_timeout: float
    header_timeout: float
    cors_origins: tuple[str, ...]
    bind: str
    workers: int
    threads: int
    worker_connections: int
    keepalive: int
    timeout: int
    graceful_timeout: int
    max_requests: int
    max_requests_jitter: int
    metrics_bind: str
    log_level: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Defaults, overridden by ``EVENTSEARCH_*`` variables, then by ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env, setting.default)
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.env}={raw!r}: {exc}") from None
        for name, value in overrides.items():
            if name not in _BY_NAME:
                raise ConfigError(f"unknown setting {name!r}")
            values[name] = value
        config = cls(**values)
        if config.body_timeout >= config.timeout:
            raise ConfigError(
                f"EVENTSEARCH_BODY_TIMEOUT={config.body_timeout:g} must be below "
                f"EVENTSEARCH_TIMEOUT={config.timeout}: a late body is cut before its "
                "request's time is up"
            )
        if config.metrics_port is not None and config.bind.endswith(f":{config.metrics_port}"):
            raise ConfigError(
                f"EVENTSEARCH_METRICS_BIND={config.metrics_bind!r}: needs a port of its own, "
                f"not the one of EVENTSEARCH_BIND={config.bind!r}"
            )
        return config

    @property
    def metrics_port(self) -> int | None:
        """The port ``/metrics`` is served on alone, or None (the service's own, or off)."""
        if self.metrics_bind in ("", "off"):
            return None
        return int(self.metrics_bind.rpartition(":")[2])

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)
