"""The relevance targets (issue 10), in one place, and how a run's figures meet them.

Our figure for every target is the cross-validated one (the mean of the held-out
folds, parameters chosen by the combined objective) when the run cross-validated,
else the service's defaults (and the check says so).  Peers are not tuned: their
figures are plain.

- known-item search: 2 words MRR@10 >= 0.95, 3 words >= 0.98, and S@1 at or above
  the best peer's, both sizes;
- story names: nDCG@10 >= 1.1 x the SQLite FTS5 peer's;
- entity names: nDCG@10 >= 0.9;
- related events: P@5 >= 0.70;
- no query type below the best peer (each type's first measure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EVERY_TYPE", "TARGETS", "Target", "check_targets"]

Figures = Mapping[str, Mapping[str, float]]  # query set -> measure -> value

#: A target's query set that stands for every query set, each with its first measure.
EVERY_TYPE = "every type"


@dataclass(frozen=True)
class Target:
    """Our ``measure`` on ``query_set`` must be at least ``bound``, or, with a
    ``peer``, at least ``bound`` x that peer's figure (``best``: the best peer's)."""

    query_set: str
    measure: str
    bound: float
    peer: str | None = None

    @property
    def label(self) -> str:
        if self.peer is None:
            return f"{self.query_set} {self.measure} >= {self.bound:g}"
        times = "" if self.bound == 1 else f"{self.bound:g} x "
        measure = f" {self.measure}" if self.measure else ""
        return f"{self.query_set}{measure} >= {times}{self.peer} peer"


TARGETS: tuple[Target, ...] = (
    Target("known_item_2", "MRR@10", 0.95),
    Target("known_item_3", "MRR@10", 0.98),
    Target("known_item_2", "S@1", 1.0, "best"),
    Target("known_item_3", "S@1", 1.0, "best"),
    Target("story", "nDCG@10", 1.1, "fts5"),
    Target("entity", "nDCG@10", 0.9),
    Target("related", "P@5", 0.70),
    Target(EVERY_TYPE, "", 1.0, "best"),
)


def _expanded(primaries: Mapping[str, str]) -> list[tuple[Target, Target]]:
    """(target as listed, target checked) pairs: ``EVERY_TYPE`` once per query set."""
    out = []
    for target in TARGETS:
        if target.query_set == EVERY_TYPE:
            out += [(target, Target(s, m, target.bound, target.peer)) for s, m in primaries.items()]
        else:
            out.append((target, target))
    return out


def check_targets(
    ours: Figures,
    peers: Mapping[str, Figures],
    primaries: Mapping[str, str],
    cross_validated: bool,
) -> list[dict[str, Any]]:
    """Each target (``EVERY_TYPE`` once per query set of ``primaries``, query set ->
    its first measure): our figure, the bound it must reach (and the peer it came
    from), whether it is met, whether our figure is cross-validated, and ``rule``: the
    label of the target as ``TARGETS`` lists it."""
    rows = []
    for rule, target in _expanded(primaries):
        figure = ours[target.query_set][target.measure]
        against = None
        bound = target.bound
        if target.peer is not None:
            against = (
                max(peers, key=lambda p: peers[p][target.query_set][target.measure])
                if target.peer == "best"
                else target.peer
            )
            bound = target.bound * peers[against][target.query_set][target.measure]
        rows.append(
            {
                "target": target.label,
                "rule": rule.label,
                "query_set": target.query_set,
                "measure": target.measure,
                "figure": round(figure, 4),
                "bound": round(bound, 4),
                "peer": against,
                "met": figure >= bound,
                "cross_validated": cross_validated,
            }
        )
    return rows
