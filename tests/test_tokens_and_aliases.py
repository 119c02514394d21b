"""What readers type and see: tokens that keep their meaning (addresses, currency,
joined and dotted words, digit groups) and names' variants (acronyms in capitals,
learned aliases, synonyms, British and American spellings).

Expected values come from the text: small records written here, or plain scans of
the real corpus and the demo pages (tests/truth.py), never from the engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from config import Config, ConfigError
from search.aliases import AliasLearner, Synonyms, SynonymsError
from search.event import Event
from search.text import Analyzer, query_text
from tests.support.indexes import client_for
from tests.truth import all_events

A = Analyzer()


def ids(client: falcon.testing.TestClient, q: str, **params: Any) -> list[str]:
    result = client.simulate_get(
        "/api/search", params={"q": q, "size": 100, "facets": "", "expand": "false", **params}
    )
    assert result.status_code == 200, result.text
    return [r["id"] for r in result.json["results"]]


def records(*texts: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"id": i, "date": "2020-01-01", "title": t, "body": t} for i, t in texts]


# --- Item 3: tokens that keep their meaning ---------------------------------------


@pytest.fixture(scope="module")
def tokens_client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    return client_for(
        tmp_path_factory.mktemp("tokens"),
        records(
            ("url", "Read https://www.unhcr.org/briefing/2015/refugees.html for the figures"),
            ("mail", "Write to press@unhcr.org about refugees"),
            ("dollar", "A fine of $250 for each refugee boat"),
            ("euro", "Tickets cost €250 or 250€ at the door"),
            ("plain", "Some 250 refugee families arrive"),
            ("node", "The node.js runtime ships a new release"),
            ("covid", "COVID-19 vaccines reach refugees"),
            ("groups", "120,000 refugees and 1,200,000 migrants; 85,000 more"),
            ("list", "Scores were 1,2 and 3, 4"),
        ),
    )


def test_a_pasted_address_is_found_whole_and_by_its_parts(
    tokens_client: falcon.testing.TestClient,
) -> None:
    assert ids(tokens_client, "https://www.unhcr.org/briefing/2015/refugees.html") == ["url"]
    assert ids(tokens_client, "http://unhcr.org/briefing/2015/refugees.html/") == ["url"]
    assert ids(tokens_client, "https://x.org/a?b=1") == []  # its ? is no wildcard
    assert "url" in ids(tokens_client, "unhcr.org") and "mail" in ids(tokens_client, "unhcr.org")
    assert set(ids(tokens_client, "www.unhcr.org")) == {"url", "mail"}  # the host
    assert ids(tokens_client, "press@unhcr.org") == ["mail"]
    assert ids(tokens_client, "briefing") == ["url"]  # path words are words


def test_address_rule_for_any_address() -> None:
    for text, whole in [
        (
            "https://www.unhcr.org/briefing/2015/refugees.html",
            "unhcr.org/briefing/2015/refugees.html",
        ),
        ("HTTP://Example.COM/Path/", "example.com/path"),
        ("www.bbc.co.uk/news", "bbc.co.uk/news"),
        ("bbc.co.uk/news/world", "bbc.co.uk/news/world"),
        ("Jane.Doe+x@Example.org", "jane.doe+x@example.org"),
        ("mailto:press@unhcr.org", "press@unhcr.org"),
    ]:
        assert [t.term for t in A.query_tokens(text)] == [whole], text
        assert whole in {t.term for t in A.tokens(f"see {text} now")}, text
        assert query_text(f"see {text}") == f'see "{text}"'
    assert query_text("and/or 9/11 bbc.com") == "and/or 9/11 bbc.com"  # not addresses


def test_a_currency_symbol_ranks_its_events_first(tokens_client: falcon.testing.TestClient) -> None:
    found = ids(tokens_client, "$250")
    assert found[0] == "dollar" and set(found) == {"dollar", "euro", "plain"}
    found = ids(tokens_client, "€250")
    assert found[0] == "euro" and set(found) == {"dollar", "euro", "plain"}
    assert ids(tokens_client, "250€")[0] == "euro"  # after the number, the same form
    assert set(ids(tokens_client, "250")) == {"dollar", "euro", "plain"}


def test_currency_rule() -> None:
    for text, marked in [("$250", "$250"), ("250€", "€250"), ("£1,000", "£1000"), ("10%", "10%")]:
        number = marked.strip("$€£%")
        assert [t.term for t in A.query_tokens(text)] == [number], text
        assert {number, marked} <= {t.term for t in A.tokens(text)}, text
        assert A.marks(text) == {number: marked}, text
    assert A.marks("250 refugees") == {}


def test_dotted_and_joined_forms(tokens_client: falcon.testing.TestClient) -> None:
    assert ids(tokens_client, "nodejs") == ["node"]
    assert ids(tokens_client, "node.js") == ["node"]
    assert ids(tokens_client, "covid19") == ["covid"]
    for written, joined in [("o'brien", "obrien"), ("bbc.com", "bbccom"), ("e_mail", "email")]:
        assert {t.term for t in A.tokens(written)} >= {A.query_tokens(joined)[0].term}, written


def test_digit_groups(tokens_client: falcon.testing.TestClient) -> None:
    assert ids(tokens_client, "120000") == ["groups"]
    assert ids(tokens_client, "85000") == ["groups"]
    assert ids(tokens_client, "1200000") == ids(tokens_client, "1,200,000") == ["groups"]
    assert ids(tokens_client, "12") == []  # "1,2" and "1, 2" join no digits
    for written, number in [("1,000", "1000"), ("12,345,678.5", "12345678.5")]:
        assert [t.term for t in A.tokens(written)] == [number]
    for written in ["1,2", "10,20", "2015,2016", "1,0000"]:
        assert [t.term for t in A.tokens(written)] == [written]


# --- Item 4: names and variants, on the real corpus and demo pages ---------------


def _text(event: Event) -> str:
    """What a plain query word is looked for in: title, body and entity names."""
    return "\n".join([event.title, event.body, *event.entities])


def test_who_in_capitals_ranks_the_organisation_first(client: falcon.testing.TestClient) -> None:
    organisation = {
        e.id for e in all_events() if re.search(r"\bWHO\b|World Health Organi[sz]ation", _text(e))
    }
    pronoun = {e.id for e in all_events() if re.search(r"\bwho\b", _text(e), re.I)}
    assert len(organisation) >= 5 and len(pronoun - organisation) >= 10
    found = ids(client, "WHO")
    assert set(found[: len(organisation)]) == organisation
    assert set(found) == organisation | pronoun
    assert set(ids(client, "who")) == pronoun  # the word: no acronym, no alias


def test_acronyms_learned_from_the_events(client: falcon.testing.TestClient) -> None:
    volkswagen = {e.id for e in all_events() if re.search(r"Volkswagen|\bVW\b", _text(e))}
    assert len(volkswagen) == 4
    assert set(ids(client, "VW")) == volkswagen == set(ids(client, "vw"))
    united_states = {
        e.id for e in all_events() if re.search(r"United States|\bU\.S\.|\bUS\b", _text(e))
    }
    found = ids(client, "U.S.")
    assert set(found[: len(united_states)]) == united_states
    assert set(ids(client, "US")[: len(united_states)]) == united_states


def test_alias_learning_rules() -> None:
    learner = AliasLearner()

    def event(text: str, *entities: str) -> Event:
        return Event.from_dict(
            {"id": "x", "date": "2020-01-01", "title": text, "entities": list(entities)}
        )

    learner.add(event("The World Health Organization (WHO) warns of Ebola."))
    learner.add(event("Volkswagen (VW) recalls cars."))
    learner.add(event("Talks in the U.S. capital.", "United States"))
    learner.add(event("The UN meets on Ukraine.", "United Nations", "Ukraine"))
    learner.add(event("A FARC truce (announced today).", "FARC"))
    learner.add(event("Dollars, US and other.", "United States dollar"))
    table = learner.table()
    assert table["WHO"] == ("World Health Organization",)
    assert table["VW"] == ("Volkswagen",)
    assert table["US"] == ("United States",)
    assert table["UN"] == ("United Nations",)
    assert "FARC" not in table


def test_synonyms_file(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.txt"
    path.write_text(
        "# Solr format\n\nfootball, soccer\nflu => influenza\nunited kingdom, britain\n",
        encoding="utf-8",
    )
    client = client_for(
        tmp_path,
        records(
            ("soccer", "Soccer fans gather"),
            ("football", "Football fans gather"),
            ("flu", "Influenza season starts"),
            ("britain", "Britain votes"),
            ("uk", "The United Kingdom votes"),
        ),
        synonyms=path,
    )
    assert set(ids(client, "football")) == set(ids(client, "soccer")) == {"soccer", "football"}
    assert ids(client, "flu") == ["flu"]
    assert ids(client, "influenza") == ["flu"]  # one way
    assert set(ids(client, "britain")) == {"britain", "uk"}
    assert set(ids(client, "united kingdom")) == {"britain", "uk"}
    # A new rule needs no rebuild: a service of the same index with another file.
    path.write_text("football, calcio\n", encoding="utf-8")
    (tmp_path / "again").mkdir()
    again = client_for(tmp_path / "again", records(("calcio", "Calcio fans")), synonyms=path)
    assert ids(again, "football") == ["calcio"]


def test_synonyms_setting_and_errors(tmp_path: Path) -> None:
    assert Config.from_env({}).synonyms is None
    path = tmp_path / "s.txt"
    assert Config.from_env({"EVENTSEARCH_SYNONYMS": str(path)}).synonyms == path
    for bad, problem in [("a => b => c\n", "more than one '=>'"), ("a, , b\n", "empty entry")]:
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(SynonymsError, match=rf"line 1: .*{problem}"):
            Synonyms.load(path)
    with pytest.raises(SynonymsError, match="cannot be read"):
        Synonyms.load(tmp_path / "missing.txt")
    assert issubclass(SynonymsError, ValueError) and not issubclass(ConfigError, SynonymsError)


def test_british_and_american_spellings(client: falcon.testing.TestClient) -> None:
    spelled = {e.id for e in all_events() if re.search(r"organi[sz]ation", _text(e), re.I)}
    assert len(spelled) >= 2
    assert set(ids(client, "organisation")) == set(ids(client, "organization")) == spelled
    for british, american in [
        ("colour", "color"),
        ("travelled", "traveled"),
        ("defence", "defense"),
    ]:
        assert A.query_tokens(british)[0].term == A.query_tokens(american)[0].term


def test_content_terms_count_an_acronym_once() -> None:
    counts, written = A.content_terms("WHO says injuries rise; the WHO and $250")
    assert counts["who"] == 2 and "WHO" not in counts  # its capitals are not a second term
    assert counts["injury"] == 1 and written["injury"] == "injuries"


def test_a_lower_case_word_is_an_acronym_only_where_the_events_write_it_so(
    tmp_path: Path,
) -> None:
    client = client_for(
        tmp_path,
        records(
            ("agency", "The Agency for International Development (AID) opens an office"),
            ("named", "The Agency for International Development meets donors"),
            ("food", "Food aid arrives in Aleppo"),
            ("convoy", "An aid convoy is attacked"),
            ("more", "More aid is promised"),
        ),
    )
    assert set(ids(client, "aid")) == {"agency", "food", "convoy", "more"}  # the word
    found = ids(client, "AID")
    assert found[0] == "agency" and set(found) == {"agency", "named", "food", "convoy", "more"}


def test_snippets_mark_every_form_that_matched(tmp_path: Path) -> None:
    client = client_for(
        tmp_path,
        records(
            ("acronym", "The World Health Organization (WHO) warns"),
            ("name", "The World Health Organization meets"),
            ("pronoun", "People who wait"),
        ),
    )
    result = client.simulate_get(
        "/api/search", params={"q": "WHO", "facets": "", "highlight": "true"}
    )
    snippets = {r["id"]: r["snippet"] for r in result.json["results"]}
    assert list(snippets) == ["acronym", "name", "pronoun"]
    assert "(<mark>WHO</mark>)" in snippets["acronym"]
    assert "<mark>Organization</mark> meets" in snippets["name"]
    assert snippets["pronoun"] == "People <mark>who</mark> wait"
