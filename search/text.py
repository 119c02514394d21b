"""The analysis contract: what a word is, and how text becomes index terms.

One module owns it.  Indexing, query words, entity filters, facets, suggest,
highlighting, entity mentions and did-you-mean all read text through it.

Folding (``fold``, and the first step of every token)
-----------------------------------------------------
The text is read in whitespace-separated chunks and each chunk by extended
grapheme cluster (UAX #29, the ``regex`` module's ``\\X``); each cluster is folded
on its own, which is what lets every token point back into the original text:

1. Apostrophes (’ ‘ ‛ ʼ ´ ′ ＇) become ``'``.
2. Unicode NFKC (ligatures, full-width forms, presentation forms: ``ﬁ`` -> ``fi``).
3. Default-ignorable code points are removed (Unicode property
   Default_Ignorable_Code_Point: soft hyphen, zero-width space, word joiner, BOM,
   variation selectors, bidi controls, ZWJ).  A zero-width non-joiner after an
   Arabic-script letter (Persian ``می‌خواهم``) separates words instead, as
   Lucene's PersianCharFilter does; elsewhere (Indic scripts) it only shapes.
4. ``str.casefold`` (``ß`` -> ``ss``; Turkish ``İ`` -> ``i`` + dot, removed in 5).
5. In NFD, the nonspacing and enclosing marks of the Latin, Greek, Cyrillic,
   Arabic and Hebrew scripts and the inherited combining marks are removed:
   accents, Arabic harakat, Hebrew points; emoji skin-tone modifiers too.  The
   kana voicing marks (が stays が), Indic vowel signs, viramas and nuktas, and
   Thai vowel and tone marks are letters of their scripts and stay.
6. Letters that have no decomposition are folded by a table: ø->o, ł->l, đ->d,
   ı->i, æ->ae, œ->oe, þ->th, ð->d, ħ->h, ŧ->t; tatweel removed; Arabic and
   Persian letter variants unified as Lucene's ArabicNormalizer and
   PersianNormalizer do (alef forms -> ا, ى ی ے -> ي, ک -> ك, ة ۀ ہ -> ه);
   Hebrew geresh and gershayim become ``'`` and ``"``.
7. NFKC again (Hangul syllables and Indic letters recomposed).

Words
-----
A folded chunk is segmented by the Unicode default word boundaries (UAX #29,
``regex`` with its WORD flag).  A word is a segment with a letter or a digit, or
an emoji (Extended_Pictographic, regional-indicator flag pairs).  Nothing is
dropped: stop words, single letters and single digits are all tokens.

- CJK (Han, Hiragana, Katakana, Hangul) and South-East Asian scripts written
  without spaces (Unicode line-break class SA: Thai, Lao, Khmer, Myanmar...) are
  cut into grapheme clusters, each a word of its own, and indexed as overlapping
  bigrams plus unigrams, as Lucene's CJKBigramFilter with unigrams does.  No
  dictionary: a typed word is cut exactly as the text around it was, whatever
  the context, and any run of two or more clusters is found as a phrase of
  bigrams.
- ``AT&T``, ``P&G``: the parts and the joined term ``at&t``.
  ``C++``, ``C#``, ``F#``: the word and the term ``c++``.
  Words that UAX #29 keeps whole across ``.``, ``'``, ``:`` or ``_``
  (``bbc.com``, ``o'brien``, ``l'état``): the parts, the joined term, and the
  parts written together (``nodejs`` for ``node.js``, ``obrien``); a host
  ``www.x.org`` also gives ``x.org``.
- A web address (a scheme, ``www.``, or a host and a path) or an e-mail address
  written as a whole chunk: its words as above, and the address itself at the
  first position, folded, without scheme, ``www.`` and closing ``/``
  (``unhcr.org/news/refugees.html``, ``press@unhcr.org``); in query mode the
  address alone (Lucene's UAX29URLEmailTokenizer keeps it whole too).
- A number with thousands separators (``120,000``, ``1,200,000.5``) is the number
  without them (``120000``); ``1,2`` and ``10,20`` are not digit groups.
- Marked forms, index mode only, at their word's position: a number against a
  currency symbol (Unicode Sc) before or after it, or a percent sign after it
  (``$250``, ``250€`` -> ``€250``, ``10%``); a word of one part written in
  capitals (two letters or more) or a dotted acronym, its folded word in
  capitals (``WHO``, ``US`` for ``U.S.``).  Query mode keeps the plain term;
  ``Analyzer.marks`` tells which typed words were marked (search/aliases.py).
- Hyphen-joined words (``COVID-19``, ``Saint-Germain``, ``e-mail``): the parts,
  and their concatenation (``covid19``, ``email``) unless all are numbers
  (``5-4`` is 5 then 4; ``54`` is another number).  Words joined by ``/`` or a
  dash are simply consecutive words (``9/11`` is 9 then 11).
- Letters and digits written together in an ASCII word (``1Malaysia``, ``MH17``,
  ``G20``, ``covid19``): the runs of letters and of digits (``mh`` then ``17``), and
  the whole word at the first run's position, which a typed word means (as the
  hyphen-joined ``MH-17`` gives ``mh``, ``mh17``, ``17``): ``malaysia`` finds
  "1Malaysia", ``mh 17`` and ``mh17`` find "MH17" (Lucene's
  WordDelimiterGraphFilter splits on numerics the same way).
- Dotted acronyms (``U.S.``, ``u.k.``, ``e.g.``) are one word, their letters
  without dots: ``U.S.`` and ``US`` are the same term ``us``.
- A possessive ``'s`` ends no Latin word: ``kenya's`` and ``kenya’s`` are ``kenya``.

Terms are the folded words, stemmed when they are English-like (ASCII letters
only after folding), in their American spelling (breame's table of British
spellings: ``organisation`` is ``organization``): Porter2 (``"porter2"``) or
Harman's S-stemmer, plural ``s`` only (``"minimal"``).  Numbers, symbols,
words with digits and other scripts are never stemmed.

Positions (the contract the phrase matcher relies on)
-----------------------------------------------------
- Every word takes one position; consecutive words differ by 1, whatever lies
  between them (``5-4``, ``5–4`` and ``5 4`` are all 5 at p and 4 at p+1).
- Tokens at the same position in index mode are alternatives, never a sequence:
  a CJK cluster and the bigram it starts; ``c`` and ``c++``; ``at`` and ``at&t``
  (the part ``t`` is at p+1); ``covid``, ``covid19`` (``19`` at p+1).
- Query mode (``query_tokens``) gives what a typed word or phrase means: one
  token per word; an address alone; for words joined by ``&``, ``+``, ``#`` or kept whole across
  ``.``, ``'``, ``:``, ``_``, the joined term alone, at the first part's
  position, the next word coming after all the parts (``AT&T wireless`` is
  at&t at 0 and wireless at 2); the parts of a hyphen-joined word (``COVID-19``
  is the phrase covid 19: it finds "COVID-19", "Covid 19" and "covid–19"; a
  typed ``covid19`` finds "COVID-19" through the joined term); for a CJK or SA
  run of n >= 2 clusters, its n-1 bigrams at positions 0..n-2 (one cluster:
  itself).
- Hence: any stretch of whole words of a text, typed again (in any Unicode
  normalisation form, any case, with or without accents), is found in it as a
  phrase: there is a position p where each query token's term is indexed at
  p + (its position - the first query token's position).

Function words are kept as tokens; ``Token.function`` flags them (from
``FUNCTION_WORDS``) so that ranking can decide whether a query's function words
count.  A word written in capitals (``US``, ``IT``, ``WHO``: two or more letters,
all upper case) and a dotted acronym are never flagged.

Query syntax helpers (``straighten_quotes``, ``drop_sentence_punctuation``,
``query_text``) prepare what a person typed for the query parser.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

import regex
from breame.spelling import BRITISH_ENGLISH_SPELLINGS
from whoosh.lang.porter2 import stem as _porter2

__all__ = [
    "DEFAULT_STEMMER",
    "FUNCTION_WORDS",
    "STEMMERS",
    "Analyzer",
    "Token",
    "drop_sentence_punctuation",
    "fold",
    "parts_stand_apart",
    "query_text",
    "quote_addresses",
    "shared_analyzer",
    "straighten_quotes",
]

#: English function words, folded: the Snowball project's English stop list
#: (snowballstem.org, algorithms/english/stop.txt: pronouns, forms of be, have
#: and do, would/should/could/ought, contractions, articles, prepositions and
#: conjunctions), plus "us", which that list leaves out only because of "US" (the
#: capitals rule of ``Token.function`` takes care of it).
_SNOWBALL_ENGLISH = """
    i me my myself we us our ours ourselves you your yours yourself yourselves
    he him his himself she her hers herself it its itself they them their theirs
    themselves what which who whom this that these those am is are was were be
    been being have has had having do does did doing would should could ought
    i'm you're he's she's it's we're they're i've you've we've they've i'd you'd
    he'd she'd we'd they'd i'll you'll he'll she'll we'll they'll isn't aren't
    wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't
    shan't shouldn't can't cannot couldn't mustn't let's that's who's what's
    here's there's when's where's why's how's a an the and but if or because as
    until while of at by for with about against between into through during
    before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more
    most other some such no nor not only own same so than too very
    """
FUNCTION_WORDS: Final[frozenset[str]] = frozenset(_SNOWBALL_ENGLISH.split())

#: The stemmers an Analyzer can use: Porter2 (snowballstem.org, whoosh's
#: implementation) and Harman's S-stemmer (plural "s" rules from D. Harman, "How
#: effective is suffixing?", JASIS 42(1), 1991; as Lucene's EnglishMinimalStemmer,
#: which also leaves words ending in "ees" and "oes").
STEMMERS: Final[tuple[str, ...]] = ("porter2", "minimal")
#: The stemmer indexes are built with unless told otherwise (chosen on the relevance
#: suite, BENCHMARKS.md: it finds an event by the words of its title more often, and
#: keeps "organ" from "organization", "universe" from "university").
DEFAULT_STEMMER: Final[str] = "minimal"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text.

    ``term``: the index term (folded, stemmed).  ``word``: the folded, unstemmed
    word it comes from (what did-you-mean, suggest and expansion show; a bigram
    for CJK, the joined form for ``at&t``).  ``position``: the word position
    (see the module docstring).  ``start``/``end``: str offsets of the token in
    the text given to the analyzer, end exclusive.  ``function``: a function
    word as written (False for ``US``, ``IT``, ``WHO``)."""

    term: str
    word: str
    position: int
    start: int
    end: int
    function: bool


_TOKEN_SLOTS = [Token.__dict__[name].__set__ for name in Token.__slots__]


def _new_token(
    term: str,
    word: str,
    position: int,
    start: int,
    end: int,
    function: bool,
    new: Callable[[type[Token]], Token] = object.__new__,
    slots: list[Callable[[Token, object], None]] = _TOKEN_SLOTS,
) -> Token:
    """``Token(...)`` at half the cost: the generated ``__init__`` of a frozen
    dataclass sets each field through ``object.__setattr__``; this sets the slots
    directly.  Indexing makes one per word, so it counts."""
    token = new(Token)
    set_term, set_word, set_position, set_start, set_end, set_function = slots
    set_term(token, term)
    set_word(token, word)
    set_position(token, position)
    set_start(token, start)
    set_end(token, end)
    set_function(token, function)
    return token


# --- Folding -----------------------------------------------------------------

_APOSTROPHE_FORMS = "\u2018\u2019\u201b\u02bc\u00b4\u2032\uff07"
_APOSTROPHES = str.maketrans(dict.fromkeys(_APOSTROPHE_FORMS, "'"))
_LETTERS = str.maketrans(
    dict.fromkeys(_APOSTROPHE_FORMS, "'")
    | {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ı": "i",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ð": "d",
        "ħ": "h",
        "ŧ": "t",
        "\u0640": None,  # tatweel
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u06cc": "\u064a",  # farsi yeh -> yeh
        "\u06d2": "\u064a",  # yeh barree -> yeh
        "\u06a9": "\u0643",  # keheh -> kaf
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06c0": "\u0647",  # heh with yeh above -> heh
        "\u06c1": "\u0647",  # heh goal -> heh
        "\u05f3": "'",  # Hebrew geresh
        "\u05f4": '"',  # Hebrew gershayim
    }
)
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
_ARABIC_SCRIPT = regex.compile(r"\p{scx=Arabic}")
_FOLDED_MARKS = regex.compile(
    r"[[\p{Mn}\p{Me}]&&[\p{sc=Zinh}\p{sc=Latn}\p{sc=Grek}\p{sc=Cyrl}\p{sc=Arab}\p{sc=Hebr}]"
    r"--[\u3099\u309a]]|\p{Emoji_Modifier}",
    regex.V1,
)
_CLUSTER = regex.compile(r"\X")
_ZWNJ = "\u200c"
_FOLD_CACHE_LIMIT = 100_000
_folded_clusters: dict[str, str] = {}


def _fold_cluster(cluster: str) -> str:
    """The folded form of one grapheme cluster (steps 1-7 of the module docstring)."""
    text = unicodedata.normalize("NFKC", cluster.translate(_APOSTROPHES))
    if _ZWNJ in text and _ARABIC_SCRIPT.match(text):
        text = text.replace(_ZWNJ, " ")
    text = _IGNORABLE.sub("", text).casefold().translate(_LETTERS)
    text = _FOLDED_MARKS.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFKC", text).translate(_LETTERS)


def _folded(cluster: str) -> str:
    found = _folded_clusters.get(cluster)
    if found is None:
        found = _fold_cluster(cluster)
        if len(_folded_clusters) >= _FOLD_CACHE_LIMIT:
            _folded_clusters.clear()
        _folded_clusters[cluster] = found
    return found


def _fold_chunk(chunk: str) -> tuple[str, list[int] | None, list[int] | None]:
    """A chunk folded, with the chunk offsets where each folded character's
    cluster starts and ends (None when folding kept every offset: ASCII)."""
    if chunk.isascii():
        return chunk.lower(), None, None
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in _CLUSTER.finditer(chunk):
        folded = _folded(match.group())
        if folded:
            pieces.append(folded)
            starts.extend([match.start()] * len(folded))
            ends.extend([match.end()] * len(folded))
    return "".join(pieces), starts, ends


def fold(text: str) -> str:
    """The matching form of an exact value (entity, source and category names,
    suggestion keys): folded as terms are (module docstring), not stemmed, not
    segmented (punctuation stays), runs of spaces made one, ends trimmed.

    ``fold("  Mu\\u0308nchen ") == fold("MÜNCHEN") == "munchen"``;
    ``fold("Kenya’s") == "kenya's"``."""
    folded = " ".join(_fold_chunk(chunk)[0] for chunk in text.split())
    return " ".join(folded.split())


# --- Words and terms ---------------------------------------------------------

_SEGMENT = regex.compile(r"\b", regex.WORD | regex.V1)
_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{N}]")
_LETTER = regex.compile(r"\p{L}")
_LETTERS_OR_DIGITS = regex.compile(r"[a-z]+|[0-9]+")  # the runs of an ASCII word
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")
_BIGRAM_SCRIPTS = r"\p{Han}\p{scx=Hiragana}\p{scx=Katakana}\p{Hangul}\p{Line_Break=SA}"
_BIGRAM_CHAR = regex.compile(rf"[{_BIGRAM_SCRIPTS}]")
_BIGRAM_RUNS = regex.compile(rf"[{_BIGRAM_SCRIPTS}]+|[^{_BIGRAM_SCRIPTS}]+")
_HEBREW_QUOTES = regex.compile(r"(?<=\p{Hebrew})['\"](?=\p{Hebrew}|$)")
_DOTTED_ACRONYM = regex.compile(r"[^\W\d_](?:\.[^\W\d_])+")
_POSSESSIVE = re.compile(r"([a-z]+)'s")
_PIECES = regex.compile(r"[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}]|(?<=\p{Hebrew})['\"](?=\p{Hebrew}))*")
_ENGLISH = re.compile(r"[a-z]+")
_SYMBOL_SUFFIX = re.compile(r"\++|#")
# A number written with thousands separators: 1,000, 120,000, 1,200,000.5.
_DIGIT_GROUPS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
# A currency symbol (Unicode Sc) ending a separator before a number, or a currency
# symbol or percent sign starting one after it.
_SYMBOL_BEFORE = regex.compile(r"\p{Sc}+$")
_SYMBOL_AFTER = regex.compile(r"^(?:\p{Sc}+|[%\u2030])")
# A web address (a scheme, ``www.`` or a host with a path) or an e-mail address, as
# a whole folded chunk; what a scheme and ``www.`` add, and a closing ``/``, are not
# part of its term.
_ADDRESS = regex.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*://)|(?=www\.)|(?=[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/))"
    r"(?P<www>www\.)?(?P<rest>[\w-]+(?:\.[\w-]+)*\.[\w-]{2,}(?::[0-9]+)?(?:/\S*)?)"
    r"|(?:mailto:)?(?P<mail>[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,})"
)
_HYPHENS = frozenset("-\u2010")

_SEP, _WORD, _EMOJI_KIND, _RUN = range(4)


def _minimal_stem(word: str) -> str:
    """Harman's S-stemmer (D. Harman, "How effective is suffixing?", JASIS 42(1),
    1991), its first applicable rule only: "ies" -> "y" (not after "e" or "a"),
    "es" -> "e" (not "aes", "ees", "oes"), "s" -> "" (not "us", "ss").  queries ->
    query, cats -> cat, refugees -> refugee; boss, bus unchanged.  (Lucene's
    EnglishMinimalStemmer stops at "ees" and "oes": it leaves "refugees".)"""
    if len(word) < 3 or word[-1] != "s":
        return word
    if word.endswith("ies") and len(word) > 3 and word[-4] not in "ae":
        return word[:-3] + "y"
    if word.endswith(("us", "ss")):
        return word
    return word[:-1]


#: British spellings and their American forms, inflections included (the ``breame``
#: package's table, from Wikipedia's list of American and British English spelling
#: differences): ``organisation`` -> ``organization``, ``colour`` -> ``color``,
#: ``travelled`` -> ``traveled``.  An English-like word is read in its American form
#: before it is stemmed, so that both spellings are one term.
_AMERICAN: Final[dict[str, str]] = BRITISH_ENGLISH_SPELLINGS


@functools.lru_cache(maxsize=100_000)
def _porter2_term(word: str) -> str:
    """The Porter2 stem of an English-like word (ASCII letters) in its American
    spelling; other words as they are.  Cached apart from the chunks (``Syria,`` and
    ``(Syria`` share a stem): stemming is most of what a new chunk costs."""
    return str(_porter2(_AMERICAN.get(word, word))) if _ENGLISH.fullmatch(word) else word


def _minimal_term(word: str) -> str:
    """The minimal stem of an English-like word (ASCII letters) in its American
    spelling; other words as they are."""
    return _minimal_stem(_AMERICAN.get(word, word)) if _ENGLISH.fullmatch(word) else word


_StemFunction = Callable[[str], str]
_TERM_FUNCTIONS: dict[str, _StemFunction] = {"porter2": _porter2_term, "minimal": _minimal_term}

# A part of a unit: (term, word, folded start, folded end).
_Part = tuple[str, str, int, int]
# A token relative to its chunk: (term, word, position, start, end, function).
_Entry = tuple[str, str, int, int, int, bool]


class _Unit:
    """What one written word gives: its parts (one position each), index-only
    extra tokens and query tokens (each at a part's index), and its words."""

    __slots__ = ("extras", "marks", "parts", "query", "words")

    def __init__(self, parts: list[_Part]) -> None:
        self.parts = parts
        self.extras: list[tuple[_Part, int]] = []
        self.query: list[tuple[_Part, int]] = [(part, i) for i, part in enumerate(parts)]
        self.words = [part[1] for part in parts]
        self.marks: tuple[tuple[str, str], ...] = ()

    def marked(self, term: str, start: int, end: int) -> None:
        """Add a marked term (a form written with a symbol, ``$250``) beside the
        first part, in index mode only; the query marks it as what the part's term
        written that way means (``Analyzer.marks``)."""
        self.extras.append(((term, term, start, end), 0))
        self.marks += ((self.parts[0][0], term),)

    def joined(self, part: _Part, *, query: bool) -> None:
        """Add a term for the whole unit at its first position; in query mode it
        stands for the unit alone when ``query``."""
        self.extras.append((part, 0))
        if query:
            self.query = [(part, 0)]
            self.words = [part[1]]


def _items(folded: str) -> list[tuple[int, str, int, int]]:
    """UAX #29 segments of a folded chunk as (kind, text, start, end); adjacent
    separators merged, CJK/SA text split off words and merged into runs."""
    items: list[tuple[int, str, int, int]] = []
    _segment(items, folded, 0)
    return items


def _segment(items: list[tuple[int, str, int, int]], text: str, start: int) -> None:
    for segment in _SEGMENT.split(text):
        if not segment:
            continue
        if segment.isalnum() or _LETTER_OR_DIGIT.search(segment):
            if not segment.isascii() and _BIGRAM_CHAR.search(segment):  # 서울seoul, bogota.국회
                offset = start
                for piece in _BIGRAM_RUNS.findall(segment):
                    if not _BIGRAM_CHAR.match(piece):
                        _segment(items, piece, offset)
                    elif _LETTER_OR_DIGIT.search(piece):
                        _append(items, _RUN, piece, offset)
                    offset += len(piece)
            else:
                items.append((_WORD, segment, start, start + len(segment)))
        elif _EMOJI.match(segment):
            items.append((_EMOJI_KIND, segment, start, start + len(segment)))
        else:
            _append(items, _SEP, segment, start)
        start += len(segment)


def _append(items: list[tuple[int, str, int, int]], kind: int, text: str, start: int) -> None:
    """Append an item, merging it into the previous one when both are separators
    or both CJK/SA runs and nothing lies between them."""
    if kind in (_SEP, _RUN) and items:
        last_kind, last_text, last_start, last_end = items[-1]
        if last_kind == kind and last_end == start:
            items[-1] = (kind, last_text + text, last_start, start + len(text))
            return
    items.append((kind, text, start, start + len(text)))


def _is_word(items: list[tuple[int, str, int, int]], index: int, letter: bool) -> bool:
    if index >= len(items) or items[index][0] != _WORD:
        return False
    return not letter or bool(_LETTER.search(items[index][1]))


def _units(folded: str, stem: _StemFunction) -> list[_Unit]:
    """The written words of a folded chunk, with their parts and extra terms."""
    items = _items(folded)
    units: list[_Unit] = []
    i = 0
    while i < len(items):
        kind, text, start, end = items[i]
        if kind == _SEP:
            i += 1
            continue
        if kind == _EMOJI_KIND:
            units.append(_Unit([(text, text, start, end)]))
            i += 1
            continue
        if kind == _RUN:
            units.append(_run(text, start))
            i += 1
            continue
        separator = items[i + 1][1] if i + 1 < len(items) else ""
        suffix = _SYMBOL_SUFFIX.match(separator)
        if (
            suffix is not None
            and (suffix.end() < len(separator) or i + 2 >= len(items))
            and _LETTER.search(text)
        ):
            unit = _word(text, start, end, stem)
            symbol = "".join(unit.words) + suffix.group()
            unit.joined((symbol, symbol, start, end + suffix.end()), query=True)
            units.append(unit)
            i += 2
        elif separator == "&" and _is_word(items, i, True) and _is_word(items, i + 2, True):
            last = i + 2
            while items[last + 1 : last + 2] and items[last + 1][1] == "&":
                if not _is_word(items, last + 2, True):
                    break
                last += 2
            members = [_word(*items[j][1:], stem) for j in range(i, last + 1, 2)]
            unit = _merge(members)
            joined = "&".join("".join(member.words) for member in members)
            unit.joined((joined, joined, start, items[last][3]), query=True)
            units.append(unit)
            i = last + 1
        elif separator in _HYPHENS and _is_word(items, i + 2, False):
            last = i + 2
            while (
                items[last + 1 : last + 2]
                and items[last + 1][1] in _HYPHENS
                and _is_word(items, last + 2, False)
            ):
                last += 2
            members = [_word(*items[j][1:], stem) for j in range(i, last + 1, 2)]
            unit = _merge(members)
            if any(_LETTER.search(part[1]) for part in unit.parts):
                joined = "".join(part[1] for part in unit.parts)
                unit.joined((stem(joined), joined, start, items[last][3]), query=False)
            units.append(unit)
            i = last + 1
        else:
            unit = _word(text, start, end, stem)
            if not _LETTER.search(text):  # a number: with a currency symbol or unit?
                _currency(unit, items, i)
            units.append(unit)
            i += 1
    return units


def _currency(unit: _Unit, items: list[tuple[int, str, int, int]], i: int) -> None:
    """Mark a number written against a currency symbol (``$250``, ``250€``, both
    ``$250``/``€250``) or a percent sign (``10%``)."""
    number, _, start, end = unit.parts[0]
    if i > 0 and items[i - 1][0] == _SEP:
        before = _SYMBOL_BEFORE.search(items[i - 1][1])
        if before is not None:
            unit.marked(before.group() + number, items[i - 1][2] + before.start(), end)
            return
    if i + 1 < len(items) and items[i + 1][0] == _SEP:
        after = _SYMBOL_AFTER.match(items[i + 1][1])
        if after is not None:
            symbol = after.group()
            term = number + symbol if symbol in "%\u2030" else symbol + number
            unit.marked(term, start, items[i + 1][2] + after.end())


def _merge(members: list[_Unit]) -> _Unit:
    """Units written together as one: their parts in order, extras and query
    tokens moved to where their parts now stand."""
    unit = _Unit([part for member in members for part in member.parts])
    unit.extras, unit.query, unit.words = [], [], []
    offset = 0
    for member in members:
        unit.extras += [(part, at + offset) for part, at in member.extras]
        unit.query += [(part, at + offset) for part, at in member.query]
        unit.words += member.words
        offset += len(member.parts)
    return unit


def _unquoted(word: str) -> str:
    """A word without the geresh/gershayim quotes of Hebrew (צה"ל -> צהל)."""
    return _HEBREW_QUOTES.sub("", word) if "'" in word or '"' in word else word


def _word(text: str, start: int, end: int, stem: _StemFunction) -> _Unit:
    """The unit of one UAX #29 word (not CJK/SA, not emoji)."""
    if text.isalnum():  # letters and digits only: most words
        runs = _LETTERS_OR_DIGITS.findall(text) if _LETTER.search(text) else [text]
        if len(runs) < 2 or not text.isascii():
            return _Unit([(stem(text), text, start, end)])
        # Letters and digits written together (1Malaysia, MH17, G20): the runs, and
        # the whole word at the first run's position, which a typed word means.
        parts, at = [], start
        for run in runs:
            parts.append((stem(run) if run.isalpha() else run, run, at, at + len(run)))
            at += len(run)
        unit = _Unit(parts)
        unit.joined((text, text, start, end), query=True)
        return unit
    if _DOTTED_ACRONYM.fullmatch(text):
        letters = text.replace(".", "")
        return _Unit([(stem(letters), letters, start, end)])
    if not _LETTER.search(text):  # a number: 7, 1,000, 3.14
        if "," in text and _DIGIT_GROUPS.fullmatch(text):  # 120,000 is 120000
            text = text.replace(",", "")
        return _Unit([(text, text, start, end)])
    possessive = _POSSESSIVE.fullmatch(text)
    if possessive is not None:
        base = possessive.group(1)
        return _Unit([(stem(base), base, start, end)])
    pieces = [
        (_unquoted(p.group()), start + p.start(), start + p.end()) for p in _PIECES.finditer(text)
    ]
    if len(pieces) == 1:  # maybe with a joining "_" at an end
        piece = pieces[0][0]
        return _Unit([(stem(piece), piece, start, end)])
    unit = _Unit([(stem(piece), piece, first, last) for piece, first, last in pieces])
    joined = _unquoted(text)
    unit.joined((joined, joined, start, end), query=True)
    # Written together, as a typed word may be: node.js is nodejs, o'brien obrien;
    # a host is found without its www.
    together = "".join(piece for piece, _, _ in pieces)
    unit.extras.append(((stem(together), together, start, end), 0))
    if joined.startswith("www.") and len(pieces) > 2:
        host = joined[4:]
        unit.extras.append(((host, host, start, end), 0))
    return unit


def _run(text: str, start: int) -> _Unit:
    """The unit of a CJK/SA run: its grapheme clusters, and their bigrams."""
    clusters = [
        (m.group(), start + m.start(), start + m.end())
        for m in _CLUSTER.finditer(text)
        if _LETTER_OR_DIGIT.search(m.group())  # not a mark standing alone
    ]
    unit = _Unit([(cluster, cluster, first, last) for cluster, first, last in clusters])
    if len(clusters) > 1:
        bigrams: list[tuple[_Part, int]] = []
        for i, ((a, first, _), (b, _, last)) in enumerate(itertools.pairwise(clusters)):
            bigrams.append(((a + b, a + b, first, last), i))
        unit.extras = bigrams
        unit.query = list(bigrams)
    return unit


def _capitals(written: str) -> bool:
    """An acronym as written: dotted (u.s), or two or more letters all in capitals."""
    if "." in written:
        return True
    return written.isupper() and sum(c.isalpha() for c in written) >= 2


class _Analysis(NamedTuple):
    """A chunk's tokens relative to it, its words, how many positions it takes, and
    its marks: (term, marked term) for each word written in a marked form."""

    indexed: tuple[_Entry, ...]
    queried: tuple[_Entry, ...]
    words: tuple[str, ...]
    width: int
    marks: tuple[tuple[str, str], ...] = ()


def _address(folded: str) -> str | None:
    """The term of a web or e-mail address written as a whole chunk (folded): without
    its scheme, ``www.`` and closing ``/`` (``unhcr.org/news/refugees.html``,
    ``press@unhcr.org``); None for other chunks."""
    if "/" not in folded and "@" not in folded and "www." not in folded:
        return None
    found = _ADDRESS.fullmatch(folded)
    if found is None:
        return None
    return found.group("mail") or found.group("rest").rstrip("/")


def _analyse(chunk: str, stem: _StemFunction) -> _Analysis:
    """Tokens of one whitespace-free chunk, relative to it."""
    if chunk.isascii() and (chunk.isalpha() or chunk.isdigit()):  # the commonest chunk
        word = chunk.lower()
        term = stem(word)
        term = word if term == word else term
        if len(chunk) > 1 and chunk.isupper():  # an acronym: WHO, US, VW
            plain = (term, word, 0, 0, len(chunk), False)
            capitals = (chunk, word, 0, 0, len(chunk), False)
            return _Analysis((plain, capitals), (plain,), (word,), 1, ((term, chunk),))
        entries = ((term, word, 0, 0, len(chunk), word in FUNCTION_WORDS),)
        return _Analysis(entries, entries, (word,), 1)
    folded, starts, ends = _fold_chunk(chunk)

    made: dict[tuple[_Part, int], _Entry] = {}

    def entry(part: _Part, position: int) -> _Entry:
        """The entry of a part at a position, one object for both modes (memory)."""
        found = made.get((part, position))
        if found is None:
            term, word, first, last = part
            if starts is not None and ends is not None:
                first, last = starts[first], ends[last - 1]
            function = word in FUNCTION_WORDS and not _capitals(chunk[first:last])
            found = (word if term == word else term, word, position, first, last, function)
            made[part, position] = found
        return found

    index: list[_Entry] = []
    query: list[_Entry] = []
    words: list[str] = []
    marks: list[tuple[str, str]] = []
    position = 0
    for unit in _units(folded, stem):
        for k, part in enumerate(unit.parts):
            made_entry = entry(part, position + k)
            index.append(made_entry)
            index += [entry(extra, position + k) for extra, at in unit.extras if at == k]
            if len(unit.parts) == 1 and _capitals(chunk[made_entry[3] : made_entry[4]]):
                # An acronym (WHO, U.S.): its capitals are a term too.
                upper = part[1].upper()
                if upper != part[1]:
                    index.append((upper, part[1], *made_entry[2:5], False))
                    marks.append((made_entry[0], upper))
        query += [entry(part, position + at) for part, at in unit.query]
        words += unit.words
        marks += unit.marks
        position += len(unit.parts)
    address = _address(folded)
    if address is not None:  # a web or e-mail address: whole, and by its parts
        whole = entry((address, address, 0, len(folded)), 0)
        if not any(e[0] == address and e[2] == 0 for e in index):
            index.insert(1, whole)
        query, words = [whole], [address]
    indexed = tuple(index)
    queried = indexed if query == index else tuple(query)
    return _Analysis(indexed, queried, tuple(words), position, tuple(marks))


#: Punctuation at a chunk's ends that takes no part in its words (UAX #29 keeps it
#: out of them there; a Hebrew word's final geresh it keeps is dropped by folding).
_EDGES = "\"'()[]{},.;:!?"
_NOTHING = _Analysis((), (), (), 0, ())
_CHUNK_CACHE_LIMIT = 100_000
_CACHED_CHUNK_LENGTH = 48


class Analyzer:
    """Text to tokens, by the contract of this module's docstring.

    ``stemmer`` is one of ``STEMMERS``; ValueError names the problem otherwise.
    Thread-safe and cheap to share: the only state is a bounded cache of analysed
    whitespace-separated chunks (a dict, whose single operations are atomic; a
    race only repeats work): at most 100,000 chunks of up to 48 characters,
    about 500 bytes each, emptied when full.  Pickles as its stemmer's name,
    without the cache (whoosh pickles analyzers into its schema)."""

    __slots__ = ("_chunks", "_stem", "stemmer")

    def __init__(self, stemmer: str = DEFAULT_STEMMER) -> None:
        if stemmer not in STEMMERS:
            raise ValueError(f"unknown stemmer {stemmer!r}: expected one of {', '.join(STEMMERS)}")
        self.stemmer = stemmer
        self._stem = _TERM_FUNCTIONS[stemmer]
        self._chunks: dict[str, tuple[_Analysis, int]] = {}

    def __reduce__(self) -> tuple[type[Analyzer], tuple[str]]:
        return (Analyzer, (self.stemmer,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Analyzer) and other.stemmer == self.stemmer

    def __hash__(self) -> int:
        return hash((Analyzer, self.stemmer))

    def __repr__(self) -> str:
        return f"Analyzer(stemmer={self.stemmer!r})"

    def _analysis(self, chunk: str) -> tuple[_Analysis, int]:
        """A chunk's analysis and where in it the analysed core starts: edge
        punctuation aside, so that "Syria," and "(Syria" share the work of
        "Syria"; each chunk is remembered, so a repeated one costs a look-up."""
        found = self._chunks.get(chunk)
        if found is None:
            stripped = chunk.lstrip(_EDGES)
            core = stripped.rstrip(_EDGES)
            if core == chunk:
                found = (_analyse(chunk, self._stem), 0)
            elif core:
                found = (self._analysis(core)[0], len(chunk) - len(stripped))
            else:
                found = (_NOTHING, 0)
            if len(chunk) <= _CACHED_CHUNK_LENGTH:
                if len(self._chunks) >= _CHUNK_CACHE_LIMIT:
                    self._chunks.clear()
                self._chunks[chunk] = found
        return found

    def _tokens(self, text: str, query: bool) -> list[Token]:
        found: list[Token] = []
        append = found.append
        make = _new_token
        position = offset = 0
        for chunk in text.split():
            offset = text.find(chunk, offset)
            analysis, lead = self._analysis(chunk)
            at = offset + lead
            for term, word, place, start, end, function in (
                analysis.queried if query else analysis.indexed
            ):
                append(make(term, word, position + place, at + start, at + end, function))
            position += analysis.width
            offset += len(chunk)
        return found

    def tokens(self, text: str) -> list[Token]:
        """Index mode: every token of ``text``, in position order (a position's
        word first, then the terms that stand at the same position)."""
        return self._tokens(text, query=False)

    def query_tokens(self, text: str) -> list[Token]:
        """Query mode: what a typed word or phrase means (module docstring,
        "Positions"), in position order.  The positions are the offsets a phrase
        matcher checks; a single word may give several tokens (``COVID-19``,
        a CJK run), which then form a phrase."""
        return self._tokens(text, query=True)

    def marks(self, text: str) -> dict[str, str]:
        """The words of a typed ``text`` written in a marked form, as ``{term: marked
        term}``: an acronym in capitals (``WHO`` -> ``{"who": "WHO"}``, ``U.S.`` ->
        ``{"us": "US"}``) and a number against a currency symbol or percent sign
        (``$250`` -> ``{"250": "$250"}``).  Query mode keeps the plain term; a query
        may rank the marked form first (search/aliases.py).  Empty for most text."""
        found: dict[str, str] = {}
        for chunk in text.split():
            for term, marked in self._analysis(chunk)[0].marks:
                found.setdefault(term, marked)
        return found

    def fold(self, text: str) -> str:
        """``fold(text)``: the matching form of an exact value."""
        return fold(text)

    def term(self, word: str) -> str | None:
        """The index term of one typed word (its stem), or None when the word is not
        one token (a phrase of parts, a CJK run, nothing)."""
        found = self._tokens(word, query=True)
        return found[0].term if len(found) == 1 else None

    def content_terms(self, text: str) -> tuple[Counter[str], dict[str, str]]:
        """The terms of ``text`` that say what it is about, with how often each
        stands in it, and for each the first word written for it: every index-mode
        term but those of function words and of single Latin letters or digits."""
        counts: Counter[str] = Counter()
        written: dict[str, str] = {}
        for token in self._tokens(text, query=False):
            if token.function or (len(token.term) < 2 and token.term.isascii()):
                continue
            if token.term != token.term.lower():
                continue  # an acronym's capitals (WHO): its word counts
            counts[token.term] += 1
            written.setdefault(token.term, token.word)
        return counts, written

    def words(self, text: str) -> list[str]:
        """The folded words of ``text`` in order, unstemmed, as written: one per
        written word (``at&t``, ``c++``, ``bbc.com``, ``us`` for ``U.S.``,
        ``kenya`` for ``Kenya's``), the parts of hyphen-joined words, each
        grapheme cluster of a CJK/SA run."""
        found: list[str] = []
        for chunk in text.split():
            found += self._analysis(chunk)[0].words
        return found


@functools.cache
def shared_analyzer(stemmer: str = DEFAULT_STEMMER) -> Analyzer:
    """The process's one Analyzer of ``stemmer`` (ValueError for an unknown one), whose
    chunk cache its users share: indexing and the entity mentions of a rebuild's
    writer processes analyse each chunk once, and hold one cache."""
    return Analyzer(stemmer)


# --- Query syntax helpers ----------------------------------------------------

_DOUBLE_QUOTES = str.maketrans(dict.fromkeys("“”„‟«»‹›「」『』〝〞〟＂❝❞", '"'))
_SINGLE_QUOTED = regex.compile(r"(?<!\w)[‘‚‛](?=\S)(.*?\S)[’‘](?!\w)")
_STRAY_APOSTROPHES = str.maketrans(dict.fromkeys("‘’‛‚", "'"))
_SENTENCE_END = regex.compile(r"[?!.,;…。！？、，；؟،]+(?=[\s\"')\]}]|$)")
_SENTENCE_START = regex.compile(r"(?<!\S)[¿¡]+")


def parts_stand_apart(terms: Sequence[str]) -> bool:
    """Whether the query terms of one typed word (``query_tokens``) may match as
    separate words rather than as a phrase: the parts of a hyphen-joined word of
    words (``Arab-Israeli``, ``Saint-Germain``, ``Turkey–PKK``), each of two or more
    letters, as Lucene's query parser reads them (``autoGeneratePhraseQueries``
    off).  A CJK or SA run's bigrams, a score or date of numbers (``5-4``, ``9/11``)
    and a word with a one-letter or numeric part (``F-16``, ``COVID-19``,
    ``e-mail``) keep their order: their parts mean little apart."""
    return len(terms) > 1 and all(
        len(t) >= 2 and t.isalpha() and not _BIGRAM_CHAR.search(t) for t in terms
    )


def straighten_quotes(text: str) -> str:
    """Typographic quotation marks as straight ``"``: “…”, „…“, «…», »…«, ‹…›,
    「…」, 『…』, and pairs of single quotes ‘…’ / ‚…‘ around words.  Other single
    quotes are apostrophes and become ``'`` (``kenya’s`` -> ``kenya's``)."""
    text = text.translate(_DOUBLE_QUOTES)
    text = _SINGLE_QUOTED.sub(r'"\1"', text)
    return text.translate(_STRAY_APOSTROPHES)


def drop_sentence_punctuation(text: str) -> str:
    """Sentence punctuation removed where it ends a word (``?``, ``!``, ``.``,
    ``,``, ``;``, ``…`` and their CJK and Arabic forms, before a space, a closing
    quote or bracket, or the end) and where ``¿``/``¡`` open one.  A ``?`` inside
    a word stays (a wildcard for the parser to judge); ``*`` always stays."""
    return _SENTENCE_START.sub("", _SENTENCE_END.sub("", text))


def quote_addresses(text: str) -> str:
    """Web and e-mail addresses outside quotes put in quotes, so that the query
    parser reads their ``:``, ``?`` and ``*`` as part of them:
    ``see https://x.org/a?b=1`` -> ``see "https://x.org/a?b=1"``."""
    if "/" not in text and "@" not in text and "www." not in text:
        return text
    pieces = text.split('"')
    for i in range(0, len(pieces), 2):  # outside quotes
        pieces[i] = " ".join(
            f'"{chunk}"' if _address(fold(chunk.strip(_EDGES))) is not None else chunk
            for chunk in pieces[i].split(" ")
        )
    return '"'.join(pieces)


def query_text(text: str) -> str:
    """What a person typed, ready for the query parser: NFKC (full-width
    ``？``, ``＂`` and ``＊`` become ASCII), straight quotes, no sentence
    punctuation, addresses quoted.  ``“What happened in Palmyra?”`` -> ``"What
    happened in Palmyra"``."""
    text = drop_sentence_punctuation(straighten_quotes(unicodedata.normalize("NFKC", text)))
    return quote_addresses(text)
