"""The relevance suite's result as plain-text tables (``bench.results.print_table``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from bench.results import print_table

__all__ = ["format_params", "print_diagnostics", "print_report"]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_params(params: Mapping[str, object]) -> str:
    """``name=value`` pairs, or ``defaults`` for none."""
    return " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def _per_type(result: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Query set -> its figures when tuned on its own (``--per-type``)."""
    return {
        v["objective"]["name"]: v["held_out"][v["objective"]["name"]]
        for v in result["cross_validation"][1:]
    }


def print_report(result: Mapping[str, Any]) -> None:
    """Every table: per query type ours and the peers, the folds, the targets, the
    diagnostics asked for, and the run's time."""
    info = result["machine"]
    click.echo(
        f"corpus {result['corpus']['path']} ({result['corpus']['events']} events); revision "
        f"{info['revision']}; seed {result['seed']}; {result['folds']} folds, grid "
        f"{result['grid']['name']}"
    )
    tuned = result["cross_validation"][0]["held_out"]
    alone = _per_type(result)
    for name, query_set in result["query_sets"].items():
        measures = query_set["measures"]
        rows: list[list[Any]] = [
            [system, *(_num(figures[name][m]) for m in measures)]
            for system, figures in result["ours"].items()
        ]
        rows.append(["ours, cross-validated", *(_num(tuned[name][m]) for m in measures)])
        if name in alone:
            rows.append(["ours, tuned on this type", *(_num(alone[name][m]) for m in measures)])
        rows += [
            [peer, *(_num(figures[name][m]) for m in measures)]
            for peer, figures in result["peers"].items()
        ]
        print_table(f"{name}: {query_set['notes']}", ["system", *measures], rows)
    primaries = {n: s["measures"][0] for n, s in result["query_sets"].items()}
    for validation in result["cross_validation"][:1]:
        held_out = validation["held_out"]
        print_table(
            f"cross-validation, {validation['objective']['name']} objective: parameters "
            "chosen on the other folds, figures on the held-out fold (all: every query "
            "scored once, held out)",
            ["fold", "parameters", "training", *(f"{n} {m}" for n, m in primaries.items())],
            [
                [
                    str(f["fold"]),
                    format_params(f["params"]),
                    _num(f["training_objective"]),
                    *(_num(f["held_out"][n][m]) for n, m in primaries.items()),
                ]
                for f in validation["folds"]
            ]
            + [["all", "", "", *(_num(held_out[n][m]) for n, m in primaries.items())]],
        )
    print_table(
        "targets (our figures cross-validated)",
        ["target", "ours", "bound", "peer", ""],
        [
            [t["target"], _num(t["figure"]), _num(t["bound"]), t["peer"] or "", _met(t["met"])]
            for t in result["targets"]
        ],
    )
    if result["diagnostics"]:
        print_diagnostics(result["diagnostics"])
    seconds = result["seconds"]
    click.echo(
        f"\n{seconds['total']:.1f} s: index {seconds['index']:.1f} s, peers "
        f"{seconds['peers']:.1f} s, ours {seconds['ours']:.1f} s, cross-validation "
        f"{seconds['cross_validation']:.1f} s; {result['runs']['ours']} runs of a query set "
        f"by our service, {result['runs']['index_builds']} index built"
    )


def _met(met: bool) -> str:
    return "met" if met else "MISSED"


def _ranks(ranks: Mapping[str, int | None], limit: int = 8) -> str:
    shown = [f"{e}:{r if r is not None else '-'}" for e, r in list(ranks.items())[:limit]]
    more = len(ranks) - limit
    return " ".join(shown) + (f" (+{more})" if more > 0 else "")


def print_diagnostics(diagnostics: Mapping[str, list[Mapping[str, Any]]]) -> None:
    """The worst queries of each type: what was asked, what we answered, where the
    relevant events stand for us and for the best peer (``-``: not in the results)."""
    for name, rows in diagnostics.items():
        click.echo(f"\nworst {name} queries")
        for row in rows:
            peer = row["best_peer"]
            click.echo(
                f"- {row['query']!r}: ours {_num(row['ours'])}, {peer} {_num(row['peer'])}; "
                f"{len(row['relevant'])} relevant"
            )
            for wanted in row["relevant"][:2] if len(row["relevant"]) <= 2 else []:
                click.echo(f"    wanted:     {wanted}  {row['titles'][wanted][:90]}")
            for i, hit in enumerate(row["top"], start=1):
                mark = "*" if hit["id"] in row["relevant"] else " "
                click.echo(f"    {i}.{mark} {hit['score']:>8.3f}  {hit['id']}  {hit['title'][:90]}")
            click.echo(f"    ranks, ours: {_ranks(row['ranks']['ours'])}")
            click.echo(f"    ranks, {peer}: {_ranks(row['ranks'][peer])}")
