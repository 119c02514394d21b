"""The relevance suite in one run: our service (defaults, without query expansion,
and cross-validated) and the peers on every query set, the targets, and on request
the worst queries' diagnostics.

    python -m bench relevance [--corpus PATH] [--grid default|wide|none] [--folds 5]
                              [--seed 0] [--known-items 300] [--per-type]
                              [--diagnose N] [--json]

Exit status: 0 when every target is met, 3 when one is missed (1 on an error, 2 on
a usage error).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from bench.relevance.crossval import DEFAULT_FOLDS, Grid, combined, cross_validate, per_type
from bench.relevance.evaluation import Evaluator, answer
from bench.relevance.grids import GRIDS
from bench.relevance.metrics import Run, Scorer, Scores, mean
from bench.relevance.peers import build_peers
from bench.relevance.queries import (
    KNOWN_ITEMS,
    QuerySet,
    build_query_sets,
    default_corpus,
    load_events,
)
from bench.relevance.report import print_report
from bench.relevance.systems import (
    IndexBuilder,
    OursFactory,
    ServiceSystem,
    build_index,
)
from bench.relevance.targets import check_targets
from bench.stats import machine
from search.event import Event

__all__ = ["EXPAND_OFF", "main", "run_relevance"]

#: Our service without query expansion.
EXPAND_OFF: dict[str, object] = {"request.expand": False}
#: Exit status when a target is missed.
MISSED = 3


def _figures(scores: Mapping[str, Scores], query_sets: Sequence[QuerySet]) -> dict[str, Any]:
    return {s.name: {m: mean(scores[s.name], m) for m in s.measures} for s in query_sets}


def _rank(ids: Sequence[str], event_id: str) -> int | None:
    return ids.index(event_id) + 1 if event_id in ids else None


def _diagnostics(
    count: int,
    events: Mapping[str, Event],
    query_sets: Sequence[QuerySet],
    ours: ServiceSystem,
    our_runs: Mapping[str, Run],
    our_scores: Mapping[str, Scores],
    peer_runs: Mapping[str, Mapping[str, Run]],
    peer_scores: Mapping[str, Mapping[str, Scores]],
) -> dict[str, list[dict[str, Any]]]:
    """Per query set, its ``count`` worst queries for us (lowest first measure; ties:
    the best peer's lead over us, largest first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for s in query_sets:
        primary = s.primary
        best = max(peer_scores, key=lambda p: mean(peer_scores[p][s.name], primary))
        mine, theirs = our_scores[s.name], peer_scores[best][s.name]
        worst = sorted(
            s.queries,
            key=lambda q: (mine[q.id][primary], mine[q.id][primary] - theirs[q.id][primary], q.id),
        )[:count]
        rows = []
        for q in worst:
            top = ours.scored_related(q.text) if s.task == "related" else ours.scored_search(q.text)
            shown = q.text if s.task != "related" else f"{q.text}: {events[q.text].title}"
            rows.append(
                {
                    "query": shown,
                    "relevant": sorted(q.relevant),
                    "titles": {e: events[e].title for e in sorted(q.relevant)[:2]},
                    "ours": mine[q.id][primary],
                    "best_peer": best,
                    "peer": theirs[q.id][primary],
                    "top": [
                        {"id": i, "title": events[i].title, "score": round(score, 3)}
                        for i, score in top[:3]
                    ],
                    "ranks": {
                        "ours": {e: _rank(our_runs[s.name][q.id], e) for e in sorted(q.relevant)},
                        best: {
                            e: _rank(peer_runs[best][s.name][q.id], e) for e in sorted(q.relevant)
                        },
                    },
                }
            )
        out[s.name] = rows
    return out


def run_relevance(
    corpus: Path | None = None,
    *,
    seed: int = 0,
    known_items: int = KNOWN_ITEMS,
    folds: int = DEFAULT_FOLDS,
    grid: str | Grid = "default",
    tune_per_type: bool = False,
    diagnose: int = 0,
    build: IndexBuilder = build_index,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Measure everything (see the module); the result, ready for JSON.  ``grid`` is
    the name of one of ``GRIDS`` or a grid; ``build`` builds our index under an
    analysis setting (``systems.IndexBuilder``)."""
    started = time.perf_counter()
    grid_name, parts = (grid, GRIDS[grid]) if isinstance(grid, str) else ("custom", grid)
    path = corpus or default_corpus()
    events = load_events(path)
    by_id = {e.id: e for e in events}
    query_sets = build_query_sets(events, seed, known_items)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-relevance-", dir=workdir) as tmp:
        factory = OursFactory(events, Path(tmp), build)
        peers: list[Any] = []
        try:
            mark = time.perf_counter()
            index_dir = factory.index_dir({})
            seconds["index"] = time.perf_counter() - mark
            mark = time.perf_counter()
            peers = build_peers(events, index_dir, Path(tmp))
            peer_runs = {p.name: {s.name: answer(p, s) for s in query_sets} for p in peers}
            scorers = {s.name: Scorer(s) for s in query_sets}
            peer_scores = {
                name: {s: scorers[s].score(run) for s, run in runs.items()}
                for name, runs in peer_runs.items()
            }
            seconds["peers"] = time.perf_counter() - mark
            evaluator = Evaluator(factory, query_sets)
            mark = time.perf_counter()
            systems: dict[str, dict[str, Scores]] = {
                "ours": {s.name: evaluator.scores({}, s) for s in query_sets},
                "ours, expand off": {s.name: evaluator.scores(EXPAND_OFF, s) for s in query_sets},
            }
            seconds["ours"] = time.perf_counter() - mark
            mark = time.perf_counter()
            objectives = [combined(query_sets)] + (per_type(query_sets) if tune_per_type else [])
            validations = cross_validate(evaluator, parts, objectives, folds, seed)
            seconds["cross_validation"] = time.perf_counter() - mark
            diagnostics = {}
            if diagnose:
                diagnostics = _diagnostics(
                    diagnose,
                    by_id,
                    query_sets,
                    factory({}),
                    {s.name: evaluator.answers({}, s) for s in query_sets},
                    systems["ours"],
                    peer_runs,
                    peer_scores,
                )
        finally:
            for peer in peers:
                peer.close()
            factory.close()
    figures = {name: _figures(scores, query_sets) for name, scores in systems.items()}
    peer_figures = {name: _figures(scores, query_sets) for name, scores in peer_scores.items()}
    tuned = validations[0].held_out
    seconds["total"] = time.perf_counter() - started
    return {
        "kind": "relevance",
        "machine": machine(),
        "corpus": {"path": str(path), "events": len(events)},
        "seed": seed,
        "known_items": known_items,
        "folds": folds,
        "grid": {"name": grid_name, "parts": [dict(part) for part in parts]},
        "query_sets": {
            s.name: {
                "task": s.task,
                "measures": list(s.measures),
                "queries": len(s.queries),
                "notes": s.notes,
            }
            for s in query_sets
        },
        "ours": figures,
        "peers": peer_figures,
        "cross_validation": [v.to_dict() for v in validations],
        "targets": check_targets(
            tuned, peer_figures, {s.name: s.primary for s in query_sets}, cross_validated=True
        ),
        "diagnostics": diagnostics,
        "runs": {"ours": evaluator.runs, "index_builds": factory.builds},
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }


@click.command("relevance")
@click.option(
    "--corpus",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The WikiTimes corpus [default: the shared corpus, see BENCHMARKS.md].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling and folds.")
@click.option(
    "--known-items",
    type=click.IntRange(min=5),
    default=KNOWN_ITEMS,
    show_default=True,
    help="Events sampled for known-item queries.",
)
@click.option("--folds", type=click.IntRange(min=2), default=DEFAULT_FOLDS, show_default=True)
@click.option(
    "--grid",
    type=click.Choice(sorted(GRIDS)),
    default="default",
    show_default=True,
    help="Parameters cross-validated (bench/relevance/grids.py).",
)
@click.option("--per-type", is_flag=True, help="Also tune each query type on its own.")
@click.option(
    "--diagnose",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Show the N worst queries of each type.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def main(
    ctx: click.Context,
    corpus: Path | None,
    seed: int,
    known_items: int,
    folds: int,
    grid: str,
    per_type: bool,
    diagnose: int,
    as_json: bool,
) -> None:
    """Relevance of the search and related events against peers, cross-validated."""
    result = run_relevance(
        corpus,
        seed=seed,
        known_items=known_items,
        folds=folds,
        grid=grid,
        tune_per_type=per_type,
        diagnose=diagnose,
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        print_report(result)
    if not all(t["met"] for t in result["targets"]):
        ctx.exit(MISSED)
