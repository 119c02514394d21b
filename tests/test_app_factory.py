"""gunicorn calls the app factory: importing ``api.app`` reads no setting and opens no
file, and ``create_app()`` reads the environment when it is given no config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import falcon.testing
import pytest

import api.app
from api.app import create_app
from tests.corpus import ROOT

# Records every file opened while ``api.app`` is imported, other than Python's own
# module files and the kernel's /proc (prometheus-client reads it at import).
_IMPORT = """
import json, os, sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        opened.append(os.fsdecode(args[0]))
sys.addaudithook(hook)
import api.app
print(json.dumps([
    p for p in opened
    if not p.endswith((".py", ".pyc", ".so")) and not p.startswith("/proc/")
]))
"""


def test_importing_the_app_module_reads_nothing(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Settings that create_app would refuse or use: importing must not read them.
        "EVENTSEARCH_WORKERS": "many",
        "EVENTSEARCH_INDEX_DIR": str(tmp_path / "index"),
    }
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert not (tmp_path / "index").exists()


def test_there_is_no_module_level_app() -> None:
    assert not hasattr(api.app, "app")
    assert "app" not in api.app.__all__


def test_create_app_reads_the_environment_when_given_no_config(
    corpus_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSEARCH_INDEX_DIR", str(corpus_index))
    monkeypatch.setenv("EVENTSEARCH_MAX_QUERY_LENGTH", "5")
    client = falcon.testing.TestClient(create_app())
    assert client.simulate_get("/api/stats").json["documents"] > 400
    refused = client.simulate_get("/api/search", params={"q": "refugees"})
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "query_too_long"
