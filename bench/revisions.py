"""Revisions of the product made ready to measure side by side (``bench compare``).

Each revision is a copy of its tree, from ``git archive`` (kept under
``<results>/compare/src/<commit>/`` and reused), or, for the pseudo-revision
``WORKTREE``, of the working tree as it is now (tracked and untracked files git
does not ignore; copied afresh every time into the command's temporary directory).

Its product code runs with the Python dependencies its own ``pyproject.toml``
pins (``[project] dependencies``): when they are the same list as this tree's,
this environment (``sys.executable``) serves; otherwise a virtual environment
holding exactly that list is made once under
``<results>/compare/venvs/<hash of the list and the Python version>/`` with
``python -m venv`` and ``pip install``, and reused by every later comparison that
needs the same list.  The product code itself is never installed: the copy's root
goes first on ``PYTHONPATH``, and every revision is checked to import ``search``,
``api``, ``indexer`` and ``config`` from its own copy before it is measured.

The indexer runs as the revision's ``indexer`` console script would (its
``[project.scripts]`` entry point, called by the revision's interpreter), and
gunicorn serves the application its ``config/gunicorn.conf.py`` (or README)
documents, with that config file: what an operator of that revision ran.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "WORKTREE", "Revision", "RevisionError", "prepare"]

#: The repository this command runs from; revisions are read from its git history.
ROOT = Path(__file__).resolve().parent.parent
#: The pseudo-revision naming the working tree as it is, changes included.
WORKTREE = "WORKTREE"
#: The packages each copy must provide itself.
PRODUCT_PACKAGES = ("search", "api", "indexer", "config")
_APP = re.compile(r"gunicorn -c config/gunicorn\.conf\.py '?([A-Za-z_][\w.]*:[\w.()]+)'?")
_DEFAULT_APP = "api.app:create_app()"
_ENTRY = re.compile(r"from ([\w.]+) import")
#: Environment variables a measured process must not inherit: the service's settings
#: (each revision runs with its defaults) and where Python or the metrics look.
_NOT_INHERITED = ("PYTHONPATH", "PROMETHEUS_MULTIPROC_DIR", "VIRTUAL_ENV")


class RevisionError(RuntimeError):
    """A revision cannot be prepared: unknown to git, unreadable, or its
    dependencies cannot be installed."""


@dataclass(frozen=True)
class Revision:
    """One revision ready to run.

    ``label`` is the name asked for (made unique with ``#2``... when asked twice),
    ``commit`` its full hash (``WORKTREE`` for the working tree), ``source`` the copy,
    ``python`` the interpreter with its dependencies, ``app`` the gunicorn application
    and ``indexer`` the command that runs its ``indexer``.
    """

    label: str
    commit: str
    source: Path
    python: Path
    dependencies: tuple[str, ...]
    app: str
    indexer: tuple[str, ...]

    @property
    def gunicorn(self) -> Path:
        """The gunicorn executable of the revision's environment."""
        return self.python.parent / "gunicorn"

    def environ(self) -> dict[str, str]:
        """The environment its processes run in: this one without any EVENTSEARCH_*
        setting (the revision's defaults apply), its copy first on PYTHONPATH."""
        kept = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("EVENTSEARCH_") and k not in _NOT_INHERITED
        }
        return {**kept, "PYTHONPATH": str(self.source)}

    def describe(self) -> dict[str, Any]:
        """A summary for result files."""
        return {
            "label": self.label,
            "commit": self.commit,
            "source": str(self.source),
            "python": str(self.python),
            "dependencies": list(self.dependencies),
            "app": self.app,
            "indexer": list(self.indexer),
        }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise RevisionError(f"git {' '.join(args)}: {exc}") from None
    if done.returncode != 0:
        raise RevisionError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def resolve(name: str) -> str:
    """The full commit hash ``name`` (a hash, branch, tag, ``HEAD~2``...) names in this
    repository; RevisionError if it names none."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").strip()
    except RevisionError:
        raise RevisionError(f"{name!r} is not a revision of {ROOT}") from None


def _export(commit: str, cache: Path) -> Path:
    """The tree of ``commit`` under ``cache/src/<commit>``, extracted from ``git archive``
    unless it is there already."""
    target = cache / "src" / commit
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=target.parent))
    try:
        archive = subprocess.Popen(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert archive.stdout is not None
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            tar.extractall(partial, filter="data")
        _, error = archive.communicate()
        if archive.returncode != 0:
            raise RevisionError(f"git archive {commit}: {error.decode(errors='replace')}")
        partial.rename(target)  # whole or not at all
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _copy_worktree(target: Path) -> Path:
    """The working tree's files (tracked, and untracked ones git does not ignore)
    copied into ``target``."""
    names = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, names):
        origin = ROOT / name
        if origin.is_file():  # a tracked file deleted in the tree is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / name)
    return target


def _pyproject(source: Path) -> dict[str, Any]:
    try:
        project: dict[str, Any] = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise RevisionError(f"{source}/pyproject.toml has no readable [project]: {exc}") from None
    return project


def dependencies(source: Path) -> tuple[str, ...]:
    """The ``[project] dependencies`` of the tree at ``source``, sorted."""
    return tuple(sorted(str(d).strip() for d in _pyproject(source).get("dependencies", [])))


def _name(requirement: str) -> str:
    """The normalized project name of a requirement (``Foo_Bar==1`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[@]", requirement, maxsplit=1)[0]).lower()


def _constraints(wanted: tuple[str, ...]) -> list[str]:
    """``name==version`` of every package of this environment that ``wanted`` does not
    name: the packages both need but only this tree pins come in the same versions."""
    named = {_name(r) for r in wanted}
    found = {
        _name(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions()
        if d.metadata["Name"] and _name(d.metadata["Name"]) not in named
    }
    return sorted(f"{name}=={version}" for name, version in found.items() if name != "eventsearch")


def _environment(wanted: tuple[str, ...], cache: Path) -> Path:
    """An interpreter whose environment holds exactly ``wanted``: this one when this
    tree pins the same, else a virtual environment made for it once under
    ``cache/venvs/``."""
    if wanted == dependencies(ROOT):
        return Path(sys.executable)
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    constraints = _constraints(wanted)
    key = json.dumps({"python": python_version, "dependencies": wanted, "constraints": constraints})
    venv = cache / "venvs" / hashlib.sha256(key.encode()).hexdigest()[:16]
    marker = venv / ".bench-dependencies.json"
    python = venv / "bin" / "python"
    if marker.is_file() and marker.read_text() == key:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    constraints_file = cache / "venvs" / f"{venv.name}.constraints.txt"
    constraints_file.write_text("".join(line + "\n" for line in constraints))
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for command in (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, "--constraint", str(constraints_file), *wanted],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RevisionError(
                f"making the environment for {', '.join(wanted)}: {' '.join(command[:4])}... "
                f"exited {done.returncode}: {done.stderr[-2000:]}"
            )
    marker.write_text(key)  # written last: a half-made environment is made again
    return python


def _app(source: Path) -> str:
    """The application the tree's own docs give gunicorn (config/gunicorn.conf.py's
    docstring, else README.md), else ``api.app:create_app()``."""
    for doc in ("config/gunicorn.conf.py", "README.md"):
        try:
            found = _APP.search((source / doc).read_text())
        except OSError:
            continue
        if found:
            return found.group(1)
    return _DEFAULT_APP


def _indexer(source: Path, python: Path) -> tuple[str, ...]:
    """The command that does what the tree's ``indexer`` console script does."""
    entry = str(_pyproject(source).get("scripts", {}).get("indexer", ""))
    module, _, function = entry.partition(":")
    if not module or not function.isidentifier():
        raise RevisionError(f"{source}/pyproject.toml declares no `indexer` script")
    code = f"import sys; from {module} import {function}; sys.argv[0] = 'indexer'; "
    # -P: the current directory does not go first on sys.path, the copy does
    return (str(python), "-P", "-c", code + f"sys.exit({function}())")


def _check_imports(revision: Revision) -> None:
    """RevisionError unless the revision's interpreter imports its application and its
    indexer, and every module of the product they load, from its copy."""
    modules = [revision.app.partition(":")[0], *_ENTRY.findall(revision.indexer[-1])]
    code = (
        "import importlib, json, sys\n"
        f"for name in {[*modules, *PRODUCT_PACKAGES]!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps([getattr(m, '__file__', None) for n, m in list(sys.modules.items())"
        f" if n.partition('.')[0] in {PRODUCT_PACKAGES!r}]))"
    )
    done = subprocess.run(
        [str(revision.python), "-P", "-c", code],
        capture_output=True,
        text=True,
        env=revision.environ(),
        cwd=revision.source,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RevisionError(f"{revision.label}: the product does not import: {done.stderr[-2000:]}")
    for path in json.loads(done.stdout.strip().splitlines()[-1]):
        if path and not Path(path).resolve().is_relative_to(revision.source.resolve()):
            raise RevisionError(f"{revision.label}: {path} is imported from outside its copy")


def _labels(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return labels


def prepare(names: Sequence[str], cache: Path, workdir: Path) -> list[Revision]:
    """The revisions ``names`` (git revisions, or ``WORKTREE``) ready to run: copies and
    environments under ``cache`` (the working tree's copy under ``workdir``, which the
    caller removes); RevisionError naming the first that cannot be prepared."""
    cache, workdir = cache.resolve(), workdir.resolve()  # the processes run elsewhere
    revisions: list[Revision] = []
    for name, label in zip(names, _labels(names), strict=True):
        if name == WORKTREE:
            commit, source = WORKTREE, _copy_worktree(workdir / f"worktree-{len(revisions)}")
        else:
            commit = resolve(name)
            source = _export(commit, cache)
        wanted = dependencies(source)
        python = _environment(wanted, cache)
        revision = Revision(
            label=label,
            commit=commit,
            source=source,
            python=python,
            dependencies=wanted,
            app=_app(source),
            indexer=_indexer(source, python),
        )
        _check_imports(revision)
        revisions.append(revision)
    return revisions
