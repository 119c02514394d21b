"""The relevance suite: what a reader finds, measured on real editors' judgements and on
known-item queries, ours against peers in the same run, with parameters chosen by
cross-validation.  See BENCHMARKS.md, "Relevance".

Modules: ``words`` (the suite's own word rule and function words), ``queries`` (the
query sets and their judgements), ``metrics`` (the measures), ``systems`` (our
service as a measured system, its parameters and the index builder hook), ``peers``
(SQLite FTS5, tantivy, whoosh BM25F), ``evaluation`` (running and scoring, cached),
``crossval`` (folds, grids, tuning), ``grids`` (the grids tuned), ``targets`` (the
targets of issue 10), ``report`` (tables), ``suite`` (the command).

    python -m bench relevance [--diagnose N] [--json]
"""

from bench.relevance.queries import DEFAULT_CORPUS, default_corpus
from bench.relevance.suite import run_relevance

__all__ = ["DEFAULT_CORPUS", "default_corpus", "run_relevance"]
