"""``make test`` sets itself up: ``.ci/setup-tests`` installs Debian's Chromium for the
browser tests when it is missing (as root, with apt-get), or says what to run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import ROOT
from tests.unprivileged import repository_reachable_by_others

SCRIPT = ROOT / ".ci" / "setup-tests"


def _run(env: dict[str, str], *prefix: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, "bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def _fake_apt(directory: Path, installs: Path) -> None:
    """An apt-get that records its arguments and installs ``installs``, as Debian's
    chromium package installs /usr/bin/chromium."""
    directory.mkdir()
    log = directory / "calls"
    apt = directory / "apt-get"
    apt.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        f'case "$*" in *install*) printf "#!/bin/sh\\n" > {installs}; chmod +x {installs};; esac\n'
    )
    apt.chmod(0o755)


def test_make_test_runs_the_setup_first_and_ci_runs_make_test() -> None:
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    setup = dry.index(".ci/setup-tests")
    assert setup < next(i for i, line in enumerate(dry) if line.endswith("/pytest"))
    assert "make test" in (ROOT / ".ci" / "run").read_text().splitlines()


def test_nothing_is_done_when_chromium_is_there(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)
    _fake_apt(tmp_path / "bin", tmp_path / "unused")
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "EVENTSEARCH_CHROMIUM": str(present)}
    assert _run(env).returncode == 0
    assert not (tmp_path / "bin" / "calls").exists()


def test_as_root_a_missing_chromium_is_installed_with_apt(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the script installs only as root (CI runs as root)")
    chromium = tmp_path / "chromium"
    _fake_apt(tmp_path / "bin", chromium)
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "EVENTSEARCH_CHROMIUM": str(chromium)}
    result = _run(env)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "bin" / "calls").read_text().splitlines()
    assert calls == ["update -qq", "install -y -qq chromium chromium-driver"]


def test_without_root_it_says_what_to_run(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "EVENTSEARCH_CHROMIUM": str(tmp_path / "chromium")}
    result = _run(env, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y chromium chromium-driver" in (
        result.stderr
    )


def test_without_apt_it_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    os.symlink("/bin/bash", tmp_path / "bin" / "bash")
    for tool in ("id", "cat"):
        os.symlink(f"/usr/bin/{tool}", tmp_path / "bin" / tool)
    env = {"PATH": str(tmp_path / "bin"), "EVENTSEARCH_CHROMIUM": str(tmp_path / "chromium")}
    result = _run(env)
    assert result.returncode == 1
    assert "no apt-get" in result.stderr
    assert "EVENTSEARCH_CHROMIUM" in result.stderr


@pytest.fixture(autouse=True)
def _reachable() -> Iterator[None]:
    """Processes that become ``nobody`` here run the project's code."""
    with repository_reachable_by_others():
        yield
