"""Relevance measured on real editors' judgements, ours against SQLite FTS5.

Wikipedia editors grouped 242 of the 428 events of the WikiTimes corpus into
stories.  The corpus is indexed with the story field removed; then:

- related: for every event in a story of at least 3 events, precision@5 of its
  related list (a hit is another event of the same story; 0.875 is the best
  possible, small stories having too few members);
- search: each such story's name is a query (19 queries), the story's events are
  the relevant ones; nDCG@10 with binary gains.

The peer is SQLite FTS5 (``porter unicode61 remove_diacritics 2``, ``bm25()``) over
the same title, body and entity names; its related list is an OR query of the
event's 10 top tf-idf terms, and its story query an OR of the name's words.

    python bench/relevance.py [--corpus PATH] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sqlite3
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from config import Config
from indexer import jobs
from indexer.formats import read_file
from search import Event, IndexStore, SearchRequest, SearchService

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wikitimes-2015-09.json"
)
MIN_STORY = 3
TARGETS = {"related_p5": 0.62, "search_ndcg10": 0.65}


def load(corpus: Path) -> list[Event]:
    return [e for e in read_file(corpus) if isinstance(e, Event)]


def stories(events: Sequence[Event]) -> dict[str, set[str]]:
    """Story name -> ids of its events, for stories of at least MIN_STORY events."""
    members: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.story:
            members[event.story].add(event.id)
    return {name: ids for name, ids in members.items() if len(ids) >= MIN_STORY}


def precision_at_5(judged: dict[str, set[str]], related: Callable[[str], list[str]]) -> float:
    scores = []
    for members in judged.values():
        for event_id in sorted(members):
            found = related(event_id)[:5]
            scores.append(sum(1 for r in found if r in members and r != event_id) / 5)
    return sum(scores) / len(scores)


def ndcg_at_10(judged: dict[str, set[str]], search: Callable[[str], list[str]]) -> float:
    scores = []
    for name, members in sorted(judged.items()):
        ranked = search(name)[:10]
        dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(ranked) if r in members)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(members), 10)))
        scores.append(dcg / ideal)
    return sum(scores) / len(scores)


class Ours:
    """Our service on an index of the corpus without its story field."""

    match = "any"

    def __init__(self, events: Sequence[Event], workdir: Path) -> None:
        source = workdir / "events.jsonl"
        with open(source, "w", encoding="utf-8") as fh:
            for event in events:
                fh.write(json.dumps(dataclasses.replace(event, story=None).to_dict()) + "\n")
        jobs.rebuild(IndexStore(workdir / "index"), [source], keep=0)
        self.service = SearchService(Config.from_env({}, index_dir=workdir / "index"))

    def related(self, event_id: str) -> list[str]:
        return [r.id for r in self.service.related(event_id, size=5).results]

    def search(self, query: str) -> list[str]:
        body = self.service.search(
            SearchRequest(q=query, match=self.match, size=10, facets=(), highlight=False)
        )
        return [r.id for r in body.results]


class Fts5Peer:
    """SQLite FTS5 over the same text."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE events USING fts5(id UNINDEXED, title, body, entities, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        self.db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?)",
            [(e.id, e.title, e.body, " ; ".join(e.entities)) for e in events],
        )
        self.db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(events, 'instance')")
        self.db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(events, 'row')")
        self.rowid = {e.id: i for i, e in enumerate(events, start=1)}
        self.total = len(events)
        self.df = dict(self.db.execute("SELECT term, doc FROM vocab"))

    def _match(self, expression: str, exclude: str | None = None) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM events WHERE events MATCH ? ORDER BY bm25(events) LIMIT 11",
            (expression,),
        ).fetchall()
        return [r[0] for r in rows if r[0] != exclude][:10]

    def related(self, event_id: str) -> list[str]:
        tf = Counter(
            term
            for (term,) in self.db.execute(
                "SELECT term FROM terms WHERE doc = ? AND col IN ('title', 'body')",
                (self.rowid[event_id],),
            )
        )
        scored = sorted(
            ((tf[t] * math.log(self.total / self.df[t]), t) for t in tf if not t.isdigit()),
            reverse=True,
        )[:10]
        expression = " OR ".join(f'"{t}"' for _, t in scored)
        return self._match(expression, exclude=event_id) if expression else []

    def search(self, query: str) -> list[str]:
        words = re.findall(r"\w+", query)
        return self._match(" OR ".join(f'"{w}"' for w in words)) if words else []


def measure(corpus: Path = DEFAULT_CORPUS) -> dict[str, dict[str, float]]:
    """Both figures for ours and the peer, and their ratios."""
    events = load(corpus)
    judged = stories(events)
    peer = Fts5Peer(events)
    with tempfile.TemporaryDirectory() as tmp:
        ours = Ours(events, Path(tmp))
        try:
            result = {
                "ours": {
                    "related_p5": precision_at_5(judged, ours.related),
                    "search_ndcg10": ndcg_at_10(judged, ours.search),
                },
                "peer": {
                    "related_p5": precision_at_5(judged, peer.related),
                    "search_ndcg10": ndcg_at_10(judged, peer.search),
                },
            }
        finally:
            ours.service.close()
    result["ratio"] = {k: result["ours"][k] / result["peer"][k] for k in result["ours"]}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = measure(args.corpus)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'figure':<16}{'ours':>8}{'SQLite FTS5':>13}{'ratio':>8}{'target':>8}")
    for key, target in TARGETS.items():
        print(
            f"{key:<16}{result['ours'][key]:>8.3f}{result['peer'][key]:>13.3f}"
            f"{result['ratio'][key]:>8.2f}{target:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
