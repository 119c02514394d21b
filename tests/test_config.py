"""Every setting has a default and help text, is documented, and reads from the environment."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from config import SETTINGS, Config, ConfigError, Setting
from tests.corpus import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_setting_is_documented_in_the_readme(setting: Setting) -> None:
    assert setting.help.strip()
    row = next(
        (line for line in README.splitlines() if line.startswith(f"| `{setting.env}` |")), None
    )
    assert row is not None, f"{setting.env} is not in the README's settings table"
    assert f"`{setting.default}`" in row or (setting.default == "" and "(empty)" in row)


def test_defaults_parse() -> None:
    config = Config.from_env({})
    assert config.index_dir == Path("var/index")
    assert config.workers == 2


def test_environment_overrides() -> None:
    config = Config.from_env(
        {
            "EVENTSEARCH_INDEX_DIR": "/data/ix",
            "EVENTSEARCH_WORKERS": "4",
            "EVENTSEARCH_CORPUS_PATHS": "a:b/c",
        }
    )
    assert config.index_dir == Path("/data/ix")
    assert config.workers == 4
    assert config.corpus_paths == (Path("a"), Path("b/c"))


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="EVENTSEARCH_WORKERS='many'"):
        Config.from_env({"EVENTSEARCH_WORKERS": "many"})
    with pytest.raises(ConfigError, match="EVENTSEARCH_WORKERS='0': must be at least 1"):
        Config.from_env({"EVENTSEARCH_WORKERS": "0"})


def test_stemmer_choices_are_the_analyzers() -> None:
    from search.text import STEMMERS

    for stemmer in STEMMERS:
        assert Config.from_env({"EVENTSEARCH_STEMMER": stemmer}).stemmer == stemmer
    with pytest.raises(ConfigError, match="EVENTSEARCH_STEMMER"):
        Config.from_env({"EVENTSEARCH_STEMMER": "snowball"})


def test_a_body_must_be_cut_before_its_request_times_out() -> None:
    with pytest.raises(ConfigError, match="EVENTSEARCH_BODY_TIMEOUT=30 must be below"):
        Config.from_env({"EVENTSEARCH_BODY_TIMEOUT": "30", "EVENTSEARCH_TIMEOUT": "30"})
    assert Config.from_env({"EVENTSEARCH_BODY_TIMEOUT": "29"}).body_timeout == 29


def test_the_http_layer_settings() -> None:
    config = Config.from_env({})
    assert (config.header_timeout, config.worker_connections) == (10.0, 1000)
    config = Config.from_env(
        {"EVENTSEARCH_HEADER_TIMEOUT": "2.5", "EVENTSEARCH_WORKER_CONNECTIONS": "4000"}
    )
    assert (config.header_timeout, config.worker_connections) == (2.5, 4000)
    with pytest.raises(ConfigError, match="EVENTSEARCH_HEADER_TIMEOUT='0': must be greater"):
        Config.from_env({"EVENTSEARCH_HEADER_TIMEOUT": "0"})
    with pytest.raises(ConfigError, match="EVENTSEARCH_WORKER_CONNECTIONS='0': must be at least"):
        Config.from_env({"EVENTSEARCH_WORKER_CONNECTIONS": "0"})


def test_gunicorn_is_given_the_worker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSEARCH_THREADS", "8")
    monkeypatch.setenv("EVENTSEARCH_WORKER_CONNECTIONS", "3000")
    settings = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert settings["worker_class"] == "api.worker.ThreadWorker"
    assert (settings["threads"], settings["worker_connections"]) == (8, 3000)
