"""The relevance suite (bench/relevance/) on the shared corpus at its real size: the
targets of issue 10, our figures cross-validated on the default grid; and the suite's
own parts (query sets, measures, folds, tuning, index reuse, the command)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bench.__main__ import cli
from bench.relevance.crossval import Grid, assign_folds, combined, cross_validate, expand_grid
from bench.relevance.evaluation import Evaluator, plain_factory
from bench.relevance.metrics import Scorer
from bench.relevance.queries import (
    RELATED,
    SEARCH,
    Query,
    QuerySet,
    build_query_sets,
    entity_queries,
    known_item_queries,
    load_events,
    related_queries,
    story_queries,
)
from bench.relevance.report import print_report
from bench.relevance.suite import run_relevance
from bench.relevance.systems import OursFactory, System, build_index
from bench.relevance.targets import TARGETS, Target
from bench.relevance.words import FUNCTION_WORDS, typed_name
from search.event import Event
from tests.corpus import corpus_file

pytestmark = pytest.mark.slow  # runs the relevance suite


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return load_events(corpus_file())


@pytest.fixture(scope="module")
def suite() -> dict[str, Any]:
    """The whole suite, as `python -m bench relevance` runs it."""
    return run_relevance(corpus_file())


# The targets of issue 10


#: Targets the service does not reach yet, each with why (BENCHMARKS.md, "Relevance").
#: Strict: the day one is reached, its test fails until it is taken off this list.
NOT_YET_MET = {
    "related P@5 >= 0.7": (
        "related P@5 is 0.680 cross-validated; the best of the 36 related weight sets of "
        "the wide grid reaches 0.684 even chosen on all the data, and 3-event stories cap "
        "P@5 at 0.4 (best possible 0.875)"
    ),
}


def _marked(target: Target) -> Any:
    reason = NOT_YET_MET.get(target.label)
    if reason is None:
        return target
    return pytest.param(target, marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize("target", [_marked(t) for t in TARGETS], ids=lambda t: t.label)
def test_target(suite: dict[str, Any], target: Target) -> None:
    rows = [row for row in suite["targets"] if row["rule"] == target.label]
    assert rows
    missed = [
        f"{row['target']}: {row['figure']:.3f} < {row['bound']:.3f}"
        for row in rows
        if not row["met"]
    ]
    assert not missed, "; ".join(missed)


# What the suite reports


def test_every_system_answers_every_query_set(suite: dict[str, Any]) -> None:
    names = set(suite["query_sets"])
    systems = {**suite["ours"], **suite["peers"]}
    assert set(suite["peers"]) == {"fts5", "tantivy", "whoosh"}
    for figures in [*systems.values(), suite["cross_validation"][0]["held_out"]]:
        assert set(figures) == names
        for name, values in figures.items():
            assert set(values) == set(suite["query_sets"][name]["measures"])
            assert all(0.0 <= v <= 1.0 for v in values.values())
    # Expansion is a search setting: related events cannot change with it.
    assert suite["ours"]["ours"]["related"] == suite["ours"]["ours, expand off"]["related"]
    json.dumps(suite)


def test_every_query_is_held_out_once(suite: dict[str, Any]) -> None:
    folds = suite["cross_validation"][0]["folds"]
    assert len(folds) == 5
    for name, query_set in suite["query_sets"].items():
        assert sum(f["queries"][name] for f in folds) == query_set["queries"]
        assert all(f["queries"][name] > 0 for f in folds)
    candidates = expand_grid(suite["grid"]["parts"])
    assert all(f["params"] in candidates for f in folds)


def test_the_report_has_a_table_per_query_type(
    suite: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    print_report(suite)
    out = capsys.readouterr().out
    for name in suite["query_sets"]:
        assert f"\n{name}: " in out
    for system in ("ours, expand off", "ours, cross-validated", "fts5", "tantivy", "whoosh"):
        assert system in out
    assert "targets (our figures cross-validated)" in out


# Query sets


def test_known_item_queries_are_content_words_of_one_title(events: list[Event]) -> None:
    titles = {e.id: e.title for e in events}
    chosen = {}
    for size in (2, 3):
        query_set = known_item_queries(events, size)
        assert len(query_set.queries) == 300
        chosen[size] = [next(iter(q.relevant)) for q in query_set.queries]
        assert len(set(chosen[size])) == 300
        for query, event_id in zip(query_set.queries, chosen[size], strict=True):
            typed = query.text.split()
            assert len(typed) == len(set(typed)) == size
            title_words = re.findall(r"[^\W\d_]+", titles[event_id].lower())
            for word in typed:
                assert word in title_words and len(word) >= 3 and word not in FUNCTION_WORDS
            positions = [title_words.index(w) for w in typed]
            assert positions == sorted(positions)
    assert chosen[2] == chosen[3]  # the same events, 2 and 3 words
    again = known_item_queries(events, 2)
    assert again == known_item_queries(events, 2, seed=0)
    assert [q.text for q in known_item_queries(events, 2, seed=1).queries] != [
        q.text for q in again.queries
    ]


def test_story_and_related_sets_follow_the_editors_grouping(events: list[Event]) -> None:
    records = json.loads(corpus_file().read_text(encoding="utf-8"))
    sizes = Counter(r["belongsToStory"]["name"] for r in records if r.get("belongsToStory"))
    big = {name: n for name, n in sizes.items() if n >= 3}
    stories = story_queries(events)
    assert {q.text: len(q.relevant) for q in stories.queries} == big
    related = related_queries(events)
    assert len(related.queries) == sum(big.values())
    story_of = {e.id: e.story for e in events}
    for query in related.queries:
        assert query.text not in query.relevant
        assert {story_of[i] for i in query.relevant} == {story_of[query.text]}
        assert len(query.relevant) == big[str(story_of[query.text])] - 1


def test_entity_queries_are_names_as_typed(events: list[Event]) -> None:
    assert typed_name("Otto Pérez Molina") == "otto perez molina"
    assert typed_name("Al-Shabaab (militant group)") == "al-shabaab"
    query_set = entity_queries(events)
    by_text = {q.text: q for q in query_set.queries}
    shabaab = {e.id for e in events if "Al-Shabaab (militant group)" in e.entities}
    assert len(shabaab) >= 2 and by_text["al-shabaab"].relevant >= shabaab
    for query in query_set.queries:
        assert len(query.relevant) >= 2
        assert query.text == query.text.lower() and "(" not in query.text
        for event_id in query.relevant:
            event = next(e for e in events if e.id == event_id)
            assert query.text in {typed_name(name) for name in event.entities}


def test_measures_on_hand_made_rankings() -> None:
    queries = (
        Query("a", "a", frozenset({"x", "y"}), "a"),
        Query("b", "b", frozenset({"z"}), "b"),
        Query("c", "c", frozenset({"w"}), "c"),
    )
    search = QuerySet("s", SEARCH, ("nDCG@10", "MRR@10", "S@1", "P@5"), queries, "")
    scores = Scorer(search).score({"a": ["q", "x", "r", "y"], "b": ["z"], "c": []})
    ideal = 1 + 1 / 1.5849625007211563  # log2(3)
    assert scores["a"]["nDCG@10"] == pytest.approx((1 / 1.5849625007211563 + 1 / 2.321928) / ideal)
    assert scores["a"]["MRR@10"] == 0.5 and scores["b"]["MRR@10"] == 1.0
    assert scores["a"]["S@1"] == 0.0 and scores["b"]["S@1"] == 1.0
    assert scores["a"]["P@5"] == 0.4 and scores["b"]["P@5"] == 0.2
    assert scores["c"] == {"nDCG@10": 0.0, "MRR@10": 0.0, "S@1": 0.0, "P@5": 0.0}
    late = Scorer(search).score({"b": [f"n{i}" for i in range(10)] + ["z"]})
    assert late["b"]["MRR@10"] == 0.0 and late["b"]["nDCG@10"] == 0.0


# Folds and tuning


def test_folds_keep_groups_whole_and_every_set_balanced(events: list[Event]) -> None:
    query_sets = build_query_sets(events)
    folds = assign_folds(query_sets, 5, seed=0)
    assert folds == assign_folds(query_sets, 5, seed=0)
    assert folds != assign_folds(query_sets, 5, seed=1)
    story_of = {e.id: e.story for e in events}
    by_story: dict[str, set[int]] = defaultdict(set)
    for query_set in query_sets:
        counts = Counter(folds[q.group] for q in query_set.queries)
        assert set(counts) == set(range(5)), query_set.name
        largest = max(Counter(q.group for q in query_set.queries).values())
        assert max(counts.values()) <= len(query_set.queries) / 5 + largest, query_set.name
        for query in query_set.queries:
            if query_set.name == "related":
                by_story[str(story_of[query.text])].add(folds[query.group])
            if query_set.name == "story":
                by_story[query.text].add(folds[query.group])
    assert by_story and all(len(f) == 1 for f in by_story.values())  # never straddled
    with pytest.raises(ValueError, match="fewer than 20 folds"):
        assign_folds(query_sets, 20)


class _Answers:
    """A system that answers each query with a fixed list (no engine: it exercises the
    tuning machinery alone)."""

    def __init__(self, answers: Mapping[str, list[str]]) -> None:
        self.answers = answers

    def search(self, query: str) -> list[str]:
        return list(self.answers.get(query, ["nothing"]))

    def related(self, event_id: str) -> list[str]:
        return []


def _toy_set(count: int = 10) -> QuerySet:
    queries = tuple(Query(f"q{i}", f"q{i}", frozenset({f"e{i}"}), f"g{i}") for i in range(count))
    return QuerySet("toy", SEARCH, ("MRR@10",), queries, "")


def test_a_parameter_that_fits_single_queries_scores_nothing_held_out() -> None:
    toy = _toy_set()

    def make(params: Mapping[str, object]) -> System:
        return _Answers({f"q{params['fits']}": [f"e{params['fits']}"]})

    evaluator = Evaluator(plain_factory(make), [toy])
    [result] = cross_validate(evaluator, [{"fits": list(range(10))}], [combined([toy])])
    folds = assign_folds([toy], 5)
    for fold in result.folds:
        assert folds[f"g{fold.params['fits']}"] != fold.fold  # chosen on training queries
        assert fold.training_objective == pytest.approx(1 / 8)
        assert fold.held_out["toy"]["MRR@10"] == 0.0
    assert result.held_out["toy"]["MRR@10"] == 0.0
    assert evaluator.runs == 10  # one run per candidate, whatever the folds


def test_a_parameter_better_everywhere_is_chosen_and_reported_at_its_worth() -> None:
    toy = _toy_set()
    right = {"good": range(7), "bad": range(7, 10)}

    def make(params: Mapping[str, object]) -> System:
        return _Answers({f"q{i}": [f"e{i}"] for i in right[str(params["kind"])]})

    evaluator = Evaluator(plain_factory(make), [toy])
    [result] = cross_validate(evaluator, [{"kind": ["bad", "good"]}], [combined([toy])])
    assert [f.params for f in result.folds] == [{"kind": "good"}] * 5
    assert result.held_out["toy"]["MRR@10"] == pytest.approx(0.7)


def test_coordinate_ascent_finds_the_best_of_two_parameters() -> None:
    toy = _toy_set()

    def make(params: Mapping[str, object]) -> System:
        right = [*(range(5) if params["a"] == 2 else []), *(range(5, 10) if params["b"] else [])]
        return _Answers({f"q{i}": [f"e{i}"] for i in right})

    evaluator = Evaluator(plain_factory(make), [toy])
    grid: Grid = [{"a": [0, 1, 2, 3], "b": [False, True], "c": ["x", "y", "z"]}]
    [result] = cross_validate(evaluator, grid, [combined([toy])], strategy="coordinate")
    assert [f.params for f in result.folds] == [{"a": 2, "b": True, "c": "x"}] * 5
    assert result.held_out["toy"]["MRR@10"] == 1.0
    assert evaluator.runs < len(expand_grid(grid))


def test_ranking_parameters_reuse_one_index_per_analysis_setting(
    events: list[Event], tmp_path: Path
) -> None:
    built: list[dict[str, object]] = []

    def build(events: Any, settings: Mapping[str, object], workdir: Path) -> Path:
        built.append(dict(settings))
        return build_index(events, {}, workdir)

    factory = OursFactory(events, tmp_path, build)
    query_sets = [story_queries(events), related_queries(events)]
    evaluator = Evaluator(factory, query_sets)
    grid: Grid = [
        {
            "index.stemmer": ["porter2", "s"],
            "request.expand": [True, False],
            "related.time": [0.3, 0.1],
        }
    ]
    try:
        [result] = cross_validate(evaluator, grid, [combined(query_sets)])
    finally:
        factory.close()
    assert built == [{"stemmer": "porter2"}, {"stemmer": "s"}]
    # 8 candidates x 2 query sets, but searches do not depend on related.time (nor
    # related events on request.expand): 4 runs each.
    assert evaluator.runs == 8
    assert len(result.folds) == 5


def test_unknown_parameters_are_named(events: list[Event], tmp_path: Path) -> None:
    factory = OursFactory(events, tmp_path)
    with pytest.raises(ValueError, match="unknown parameter 'speed': parameters are PREFIX"):
        factory({"speed": 1})
    with pytest.raises(ValueError, match=r"'expansion\.nope': ExpansionWeights has .*term_weight"):
        factory({"expansion.nope": 1})
    with pytest.raises(ValueError, match=r"unknown analysis settings \['shingles'\]"):
        build_index(events, {"shingles": 2}, tmp_path)
    with pytest.raises(ValueError, match="unknown stemmer 's': one of porter2, minimal"):
        build_index(events, {"stemmer": "s"}, tmp_path)
    assert factory.builds == 0


def test_command_json_diagnostics_and_exit_status() -> None:
    result = CliRunner().invoke(
        cli,
        [
            *("relevance", "--corpus", str(corpus_file()), "--grid", "none", "--known-items", "40"),
            *("--diagnose", "2", "--json"),
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    found = json.loads(result.output)
    missed = not all(t["met"] for t in found["targets"])
    assert result.exit_code == (3 if missed else 0)
    assert set(found["diagnostics"]) == set(found["query_sets"])
    for name, rows in found["diagnostics"].items():
        assert len(rows) == 2
        for row in rows:
            assert len(row["top"]) <= 3 and set(row["ranks"]) == {"ours", row["best_peer"]}
            if name.startswith("known_item"):
                [rank] = row["ranks"]["ours"].values()
                assert row["ours"] == (1 / rank if rank is not None and rank <= 10 else 0.0)
    assert found["query_sets"]["related"]["task"] == RELATED
    assert found["query_sets"]["known_item_2"]["queries"] == 40
