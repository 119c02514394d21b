"""Who imports whom: the indexer uses the engine through its public API only
(``search/__init__.py``): nothing from search's modules nor whoosh, so the index layout
(where a generation keeps its rejects and a job its spool) stays the engine's to
change; and the tests do not depend on the benchmarks."""

from __future__ import annotations

import ast

from tests.corpus import ROOT


def _imported_modules(package: str) -> dict[str, set[str]]:
    """Module file (relative to the repository) -> the modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path.relative_to(ROOT).as_posix()] = names
    return found


def test_the_indexer_imports_only_the_engines_public_api() -> None:
    modules = _imported_modules("indexer")
    assert "indexer/jobs.py" in modules and "search" in modules["indexer/jobs.py"]
    private = {
        name: sorted(m for m in imported if m.startswith(("search.", "whoosh")))
        for name, imported in modules.items()
    }
    assert {name: found for name, found in private.items() if found} == {}


def test_the_tests_and_their_support_do_not_import_bench() -> None:
    """The launcher, index builders and generator are the tests' own (tests/support/);
    the benchmarks import them, not the other way round.  The bench commands are
    tested by running them (test_bench_smoke.py); tests/test_relevance.py tests the
    relevance suite's parts one by one, so it alone imports them."""
    modules = _imported_modules("tests")
    assert "tests/support/gunicorn.py" in modules
    importing = {
        name
        for name, imported in modules.items()
        if any(m == "bench" or m.startswith("bench.") for m in imported)
    }
    assert importing == {"tests/test_relevance.py"}


#: Modules that read the index for requests: a reader's snapshot of a commit and
#: everything that answers a query through it.
READING = frozenset(
    f"search.{name}"
    for name in [
        "snapshot",
        "live",
        "service",
        "evaluate",
        "lexicon",
        "spelling",
        "expansion",
        "facets",
        "related",
        "rank",
        "highlight",
        "parse",
        "query",
        "matches",
        "memo",
        "deadline",
    ]
)


def _closure(modules: dict[str, set[str]], start: str) -> set[str]:
    """The engine's modules ``start`` imports, directly or through others."""
    found: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        path = name.replace(".", "/") + ".py"
        for imported in modules.get(path, set()):
            if imported.startswith("search.") and imported not in found:
                found.add(imported)
                todo.append(imported)
    return found


def test_writing_modules_never_import_reading_modules() -> None:
    """The writer builds what it keeps beside the index (the suggestion table, the
    mention vocabulary, each segment's columns) from the segments' files, never
    through a reader's snapshot: writing and reading change apart."""
    modules = _imported_modules("search")
    for writing in ("search.writer", "search.writer_hooks"):
        reached = _closure(modules, writing)
        assert "search.schema" in reached  # the walk does follow imports
        assert sorted(reached & READING) == [], writing
