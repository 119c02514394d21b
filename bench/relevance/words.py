"""How the relevance suite reads text to make queries: its own word rule and English
function words, independent of the service's analyzer (``search.analysis``), so that
a change of the product's analysis never changes the queries it is measured on.

- A *word* is a maximal run of Unicode letters (``[^\\W\\d_]+``): digits, apostrophes
  and hyphens split words (``Al-Shabaab`` is ``al`` and ``shabaab``, ``Japan's`` is
  ``japan`` and ``s``).
- A *content word* is a word of at least 3 letters that is not a function word, in
  lower case (accents kept: a reader who remembers "München" types it so).
- The *function words* are the closed-class words of English: articles,
  determiners and quantifiers, pronouns, prepositions, conjunctions, auxiliary and
  modal verbs, and a few adverbs of degree and negation (``FUNCTION_WORDS``).
- An entity's *typed form* is its name as a person types it in a search box: lower
  case, accents dropped (Unicode NFKD, combining marks removed), without the
  parenthesised disambiguation Wikipedia adds (``Al-Shabaab (militant group)`` is
  typed ``al-shabaab``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FUNCTION_WORDS", "content_words", "typed_name", "words"]

_FUNCTION_WORDS = """
    a an the this that these those some any each every either neither no all both
    half several many much more most few fewer less least other another such own
    same enough
    i me my mine myself you your yours yourself yourselves he him his himself she
    her hers herself it its itself we us our ours ourselves they them their theirs
    themselves who whom whose which what whatever whoever whichever one ones
    about above across after against along amid amidst among amongst around as at
    before behind below beneath beside besides between beyond by despite down
    during except for from in inside into like near of off on onto out outside over
    past per since than through throughout till to toward towards under underneath
    unlike until unto up upon via with within without
    and but or nor so yet if unless because although though while whereas whether
    then once when whenever where wherever how why
    be am is are was were been being have has had having do does did doing done
    will would shall should can could may might must ought
    not never very too also just only even still quite rather almost there here
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())

_WORD = re.compile(r"[^\W\d_]+")
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")
_SPACES = re.compile(r"\s+")


def words(text: str) -> list[str]:
    """The words of ``text`` in order, in lower case (letters only; see the module)."""
    return [w.lower() for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """The distinct content words of ``text`` (3+ letters, not function words), in the
    order of their first occurrence, lower case."""
    found = [w for w in words(text) if len(w) >= 3 and w not in FUNCTION_WORDS]
    return list(dict.fromkeys(found))


def typed_name(name: str) -> str:
    """An entity name as typed in a search box: ``"Otto Pérez Molina"`` ->
    ``"otto perez molina"``, ``"Al-Shabaab (militant group)"`` -> ``"al-shabaab"``."""
    bare = _QUALIFIER.sub("", name) or name
    decomposed = unicodedata.normalize("NFKD", bare)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.lower()).strip()
