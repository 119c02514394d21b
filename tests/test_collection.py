"""Collecting the tests needs no shared material: the real corpus and seed page are
looked for only when a test or fixture asks for them (tests/corpus.py), never at import.

The check collects the whole suite in a mount namespace where every place the shared
material is looked for is hidden under an empty tmpfs (so it needs root, as CI has).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import ROOT

# Hide each directory given, show that the corpus is then not found, then collect.
_SCRIPT = """
for dir in "$@"; do mount -t tmpfs none "$dir" || exit 90; done
"$PYTHON" -c 'from tests.corpus import shared_dir; shared_dir()' 2>/dev/null && exit 91
exec "$PYTHON" -m pytest --collect-only -q -p no:cacheprovider
"""


def test_the_tests_are_collected_without_the_shared_corpus(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("hiding the shared directories takes a mount namespace (root; CI is root)")
    places = [ROOT.parent / "shared", Path("/work/shared")]
    hidden = [str(p) for p in places if p.is_dir()]
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "EVENTSEARCH_SHARED_DIR": str(tmp_path / "absent"),
    }
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _SCRIPT, "sh", *hidden],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode not in (90, 91), "the shared material could not be hidden"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " tests collected" in result.stdout
    assert "error" not in result.stdout.splitlines()[-1]
