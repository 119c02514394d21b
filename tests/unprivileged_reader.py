"""Read an index as an unprivileged user: ``python -m tests.unprivileged_reader INDEX USER``.

Run as root, it first reads a copy of the index (so that every module a reader
needs is imported while the interpreter's files are still readable: the
interpreter may live where only root can read), then drops its privileges to
USER for good, and reads INDEX through the API's Falcon app and ``indexer stats``.
Prints one JSON object: each request's status and body, and each command's exit
code and output.  Used by tests/test_read_only_index.py.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import falcon.testing
from click.testing import CliRunner

from api.app import create_app
from config import Config
from indexer.cli import cli

REQUESTS = [
    "/api/search?q=election",
    "/api/search",
    "/api/suggest?q=ele",
    "/api/stats",
    "/readyz",
]


def read(index_dir: Path) -> dict[str, Any]:
    """Every request of REQUESTS and ``indexer stats`` (plain and --verify)."""
    client = falcon.testing.TestClient(create_app(Config.from_env({}, index_dir=index_dir)))
    answers = {}
    for path in REQUESTS:
        result = client.simulate_get(path)
        answers[path] = {"status": result.status_code, "body": result.json}
    commands = {}
    for args in (["stats"], ["stats", "--verify"]):
        outcome = CliRunner().invoke(cli, [*args, "--index-dir", str(index_dir)])
        commands[" ".join(args)] = {
            "exit": outcome.exit_code,
            "stdout": outcome.stdout,
            "stderr": outcome.stderr,
        }
    return {"requests": answers, "commands": commands}


def main() -> None:
    index_dir, user = Path(sys.argv[1]), sys.argv[2]
    scratch = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(index_dir, scratch / "copy", symlinks=True)
        read(scratch / "copy")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    account = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    found = read(index_dir)
    found["uid"] = os.getuid()
    print(json.dumps(found))


if __name__ == "__main__":
    main()
