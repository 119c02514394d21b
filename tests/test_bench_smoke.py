"""The benchmark suite, run once at a tiny size: it works and its figures have the right
shape.  No timing is asserted; speed is what the benchmark commands report."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bench.__main__ import cli
from bench.corpus import CorpusInfo, read_corpus_events
from bench.engines import Engine, OursEngine, SqliteEngine, TantivyEngine
from bench.generate import generate_corpus, generate_events
from bench.index_bench import rebuild
from bench.model import FIRST_DAY, LAST_DAY, SOURCE_POOL, learn_model
from bench.queries import MIX, SEARCH_KINDS, build_log
from bench.suite import run_suite
from bench.targets import evaluate
from tests.corpus import CORPUS

pytestmark = pytest.mark.slow  # runs the benchmark suite

SIZE = 300


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole suite at SIZE events: one index run, short HTTP phases, one peers round."""
    results = tmp_path_factory.mktemp("bench-results")
    return run_suite(SIZE, seed=3, runs=1, requests=80, seconds=5.0, rounds=1, results_dir=results)


def test_generator_is_deterministic_and_shaped_like_the_real_events(tmp_path: Path) -> None:
    first = generate_corpus(tmp_path / "a.jsonl", SIZE, seed=5)
    again = generate_corpus(tmp_path / "b.jsonl", SIZE, seed=5)
    other = generate_corpus(tmp_path / "c.jsonl", SIZE, seed=6)
    assert first.path.read_bytes() == again.path.read_bytes()
    assert first.path.read_bytes() != other.path.read_bytes()

    events = list(read_corpus_events(first.path))
    assert len(events) == SIZE == len({e.id for e in events})
    assert all(1 <= len(e.entities) <= 6 for e in events)
    assert all(1 <= len(e.sources) <= 3 for e in events)
    assert all(FIRST_DAY <= e.date <= LAST_DAY for e in events)
    assert (LAST_DAY - FIRST_DAY).days > 24 * 365
    assert len({s.name for e in events for s in e.sources}) <= SOURCE_POOL
    assert all(e.body.startswith(e.title) for e in events)
    # Long-tailed: the most cited entity is on many events, most entities on one or two.
    entity_counts = Counter(name for e in events for name in e.entities)
    assert entity_counts.most_common(1)[0][1] >= 10
    assert sum(1 for c in entity_counts.values() if c <= 2) > len(entity_counts) / 2


def test_event_pages_carry_the_same_events_as_json_lines(tmp_path: Path) -> None:
    pages = generate_corpus(tmp_path / "pages", 120, seed=5, fmt="seed")
    lines = generate_corpus(tmp_path / "events.jsonl", 120, seed=5)
    from_pages = list(read_corpus_events(pages.path))
    assert len(from_pages) == 120
    assert from_pages == list(read_corpus_events(lines.path))
    # The first events do not depend on how many are drawn.
    assert list(generate_events(lines.model(), 10, 5)) == from_pages[:10]


def test_a_learned_model_draws_from_the_real_corpus() -> None:
    model = learn_model(CORPUS)
    real = json.loads(CORPUS.read_text())
    real_words = {w for record in real for w in record["description"].split()}
    assert model.learned_from == str(CORPUS)
    assert model.words[0] in real_words  # the most frequent word comes from the corpus
    events = list(generate_events(model, 200, 0))
    top_entity = Counter(n for e in events for n in e.entities).most_common(1)[0][0]
    assert top_entity in model.entities[:50]
    assert len(model.sources) == SOURCE_POOL


def test_the_query_log_covers_the_mix(suite: dict[str, Any]) -> None:
    info = CorpusInfo.read(Path(suite["corpus"]["path"]))
    log = build_log(info.model(), info.count, info.seed)
    assert Counter(q.kind for q in log) == Counter(MIX)
    assert log == build_log(info.model(), info.count, info.seed)  # fixed
    assert all(q.search_path().startswith("/api/search") for q in log if q.is_search)
    half = next(q for q in log if q.kind == "half")
    assert half.words == () and half.date_from == info.model().midpoint()


def test_index_benchmark_reports_rate_memory_and_size(suite: dict[str, Any]) -> None:
    index = suite["index"]
    (run,) = index["runs"]
    assert run["events"] == SIZE
    assert run["seconds"] > 0 and run["events_per_s"] > 0 and run["cpu_s"] > 0
    assert run["peak_rss_mb"] > 10 and run["index_mb"] > 0
    assert index["median"]["events_per_s"] == run["events_per_s"]


def test_http_benchmark_loads_real_gunicorn(suite: dict[str, Any]) -> None:
    http = suite["http"]
    assert set(http["median"]) == {"1", "8"}
    for phase in http["median"].values():
        assert phase["requests"] > 0 and phase["errors"] == phase["timed_out"] == 0
        assert phase["rps"] > 0
        for part in ("all", "search"):
            p = phase[part]
            assert 0 < p["p50_ms"] <= p["p95_ms"] <= p["p99_ms"]
        assert set(SEARCH_KINDS) <= set(phase["by_kind"])
    assert len(http["workers_memory"]) == 2
    for memory in http["workers_memory"]:
        assert memory["rss_mb"] > 10 and memory["peak_rss_mb"] >= memory["rss_mb"]
        assert 0 < memory["pss_mb"] <= memory["rss_mb"]
        assert 0 < memory["private_mb"] <= memory["rss_mb"]
    if http["routes"]["related"]:
        assert "related" in http["median"]["1"]["by_kind"]


def test_peers_do_the_same_work_as_ours(suite: dict[str, Any]) -> None:
    peers = suite["peers"]
    for mode in ("plain", "facets"):
        for name in ("sqlite", "tantivy"):
            agreement = peers["agreement"][mode][name]
            # Built-in words are stemmed alike by every engine: every answer agrees.
            assert agreement["of"] > 100
            assert all(agreement[part] == agreement["of"] for part in agreement)
            ratio = peers["ratios"][mode][name]
            assert ratio["sum"] > 0 and ratio["median"] > 0
    assert peers["half_facets_ms"]["ours"] > 0


def test_peers_find_the_same_hits_for_single_words(suite: dict[str, Any], tmp_path: Path) -> None:
    info = CorpusInfo.read(Path(suite["corpus"]["path"]))
    words = [q for q in build_log(info.model(), info.count, info.seed) if q.kind == "word"]
    index_dir = tmp_path / "index"
    rebuild(info.path, index_dir)
    engines: list[Engine] = [
        OursEngine(index_dir),
        SqliteEngine.build(read_corpus_events(info.path), tmp_path / "fts.sqlite"),
        TantivyEngine.build(read_corpus_events(info.path), tmp_path / "tantivy"),
    ]
    compared = 0
    try:
        for query in words:
            answers = [e.run(query, facets=False) for e in engines]
            assert len({a.total for a in answers}) == 1, query
            if 0 < answers[0].total <= query.size:  # the whole hit set is on the page
                assert len({frozenset(a.ids) for a in answers}) == 1, query
                compared += 1
    finally:
        for engine in engines:
            engine.close()
    assert compared >= 5


def test_targets_are_read_from_a_suite_result(suite: dict[str, Any]) -> None:
    assert all(row["target"] is None for row in suite["targets"])  # no target at this size
    at_100k = evaluate(suite, 100_000)
    by_figure = {row["figure"]: row for row in at_100k}
    rate = by_figure["indexer rebuild throughput"]
    assert rate["value"] == suite["index"]["median"]["events_per_s"]
    assert rate["met"] is (rate["value"] >= 3000)
    ratio = by_figure["search + facets, ours / SQLite FTS5 (log sum)"]
    assert ratio["met"] is (ratio["value"] <= 1.0)
    if not ratio["met"]:
        assert ratio["missed_by_x"] == round(ratio["value"], 2)


def test_the_command_line_writes_a_corpus(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(cli, ["generate", "--count", "25", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 25
    assert CorpusInfo.read(out).count == 25
    bad = CliRunner().invoke(cli, ["generate", "--count", "0", "--out", str(out)])
    assert bad.exit_code == 2 and "--count" in bad.output
    unknown = CliRunner().invoke(cli, ["index", "--corpus", str(tmp_path)])
    assert unknown.exit_code == 2 and "not written by" in unknown.output


def test_highlight_benchmark_at_a_tiny_size() -> None:
    """bench highlight's two parts run and give a figure per case (none is asserted)."""
    from bench.highlight import bodies, measure_search, measure_snippets

    made = bodies(CORPUS, 5_000)
    assert set(made) == {"start", "middle", "end"}
    assert all("harbour rail link" in body and len(body) > 5_000 for body in made.values())
    snippets = measure_snippets(CORPUS, 5_000, runs=1)
    assert len(snippets) == 9 and all(r["ms"] >= 0 and r["cpu_ms"] >= 0 for r in snippets)
    searches = measure_search(CORPUS, 5_000, runs=1)
    assert [r["query"] for r in searches] == ["harbour", '"rail link"']
    assert all(r["took_ms"] > 0 for r in searches)
