"""The analysis contract (search/text.py): folding, words, meaningful tokens,
positions, stemming and the query-text helpers.

Expected values are written by hand from the Unicode standard, Lucene's
analyzers and the Snowball/Lucene stemmer tests, or derived from Python's own
Unicode database (``unicodedata``), never from the code under test.  Whether a
typed query finds a text is judged by ``found``, a phrase matcher written here
from the positions contract of the module docstring.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
import unicodedata
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.text import (
    FUNCTION_WORDS,
    STEMMERS,
    Analyzer,
    Token,
    drop_sentence_punctuation,
    fold,
    query_text,
    straighten_quotes,
)

A = Analyzer("porter2")
MINIMAL = Analyzer("minimal")
FORMS: tuple[Literal["NFC", "NFD", "NFKC", "NFKD"], ...] = ("NFC", "NFD", "NFKC", "NFKD")


def found(text: str, typed: str, analyzer: Analyzer = A) -> bool:
    """Does the phrase of ``typed``'s query tokens occur in ``text``'s index tokens?
    Query token i must be at p + (its position - the first one's) for some p."""
    query = analyzer.query_tokens(typed)
    if not query:
        return False
    at: dict[int, set[str]] = defaultdict(set)
    for token in analyzer.tokens(text):
        at[token.position].add(token.term)
    first = query[0].position
    return any(all(q.term in at.get(p + q.position - first, ()) for q in query) for p in list(at))


def placed(tokens: list[Token]) -> list[tuple[str, int]]:
    return [(t.term, t.position) for t in tokens]


# --- 1. Unicode forms ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("Mu\u0308nchen", "München"),
        ("München", "Mu\u0308nchen"),
        ("Zu\u0308rich Airport", "Zürich"),
        ("Sa\u0303o Paulo", "São Paulo"),
        ("Bogotá", "Bogota\u0301"),
        ("Ελλα\u0301δα", "Ελλάδα"),
        ("Việt Nam", "Vie\u0323\u0302t Nam"),
        ("München", "munchen"),
        ("MÜNCHEN", "münchen"),
        ("Łódź", "lodz"),
        ("Ærø", "aero"),
        ("Þórshöfn", "thorshofn"),
        ("Ελλάδα", "ελλαδα"),
        ("ёлка", "елка"),
        ("İstanbul", "istanbul"),
        ("İSTANBUL", "istanbul"),
        ("istanbul", "İstanbul"),
        ("Diyarbakır", "diyarbakir"),
        ("DİYARBAKIR", "Diyarbakır"),
        ("Hauptstraße", "hauptstrasse"),
        ("HAUPTSTRASSE", "Hauptstraße"),
        ("ΟΔΥΣΣΕΥΣ", "Οδυσσεύς"),
        ("ﬁnancial crisis", "financial"),
        ("ﬂood warning", "flood"),
        ("ＵＮＩＣＥＦ report", "unicef"),
        ("ﾄｳｷｮｳ", "トウキョウ"),
        ("Klimaschutz\u00adgesetz", "Klimaschutzgesetz"),
        ("Ebo\u200bla outbreak", "ebola"),
        ("Ebo\u2060la outbreak", "Ebola"),
        ("\ufeffBreaking news", "breaking"),
        ("مُحَمَّد", "محمد"),
        ("محمد", "مُحَمَّد"),
        ("مُحَمَّد", "مُحَمَّد"),
        ("محـــمد", "محمد"),
        ("أحمد", "احمد"),
        ("إسلام آباد", "اسلام اباد"),
        ("ایران", "ايران"),
        ("کتاب", "كتاب"),
        ("שָׁלוֹם", "שלום"),
        ("צה״ל", 'צה"ל'),
    ],
)
def test_forms_of_a_word_find_each_other(text: str, typed: str) -> None:
    assert found(text, typed)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Mu\u0308nchen", ["munchen"]),
        ("İstanbul İSTANBUL ISTANBUL", ["istanbul"] * 3),
        ("Hauptstraße", ["hauptstrasse"]),
        ("ǅemal", ["dzemal"]),
        ("ﬁnancial", ["financial"]),
        ("ＵＮＩＣＥＦ", ["unicef"]),
        ("km²", ["km2"]),
        ("Ⅻ", ["xii"]),
        ("Klimaschutz\u00adgesetz", ["klimaschutzgesetz"]),
        ("Ebo\u200bla", ["ebola"]),
        ("مُحَمَّد", ["محمد"]),
        ("محـــمد", ["محمد"]),
        ("أحمد إسلام آمنة", ["احمد", "اسلام", "امنه"]),
        ("می\u200cخواهم", ["مي", "خواهم"]),
        ("शांति", ["शांति"]),
        ("हिन्दी", ["हिन्दी"]),
        ("क्\u200cष", ["क्ष"]),
        ("שָׁלוֹם", ["שלום"]),
        ("צה״ל", ["צהל"]),
    ],
)
def test_folded_words(text: str, words: list[str]) -> None:
    assert A.words(text) == words


#: Default-ignorable code points (Unicode DerivedCoreProperties.txt,
#: Default_Ignorable_Code_Point): soft hyphen, combining grapheme joiner, Arabic
#: letter mark, Hangul filler, Mongolian selectors, zero-width space/joiners,
#: bidi marks and embeddings, word joiner, invisible operators, isolates,
#: variation selectors, BOM, language tags.
IGNORABLES = [
    0x00AD, 0x034F, 0x061C, 0x115F, 0x180B, 0x180E, 0x200B, 0x200D, 0x200E, 0x200F,
    0x202A, 0x202E, 0x2060, 0x2062, 0x2066, 0x2069, 0xFE00, 0xFE0F, 0xFEFF, 0xE0001,
    0xE0041,
]  # fmt: skip


@pytest.mark.parametrize("code", IGNORABLES, ids=hex)
def test_default_ignorables_never_split_a_word(code: int) -> None:
    text = f"Klima{chr(code)}schutz"
    assert A.words(text) == ["klimaschutz"]
    (token,) = A.tokens(text)
    assert (token.start, token.end) == (0, len(text))


def _precomposed() -> list[tuple[str, str]]:
    """Letters with a canonical decomposition onto a basic Latin, Greek or Cyrillic
    letter (Python's Unicode database), and that letter case-folded."""
    basic = re.compile("[A-Za-z\u0391-\u03a9\u03b1-\u03c9\u0410-\u044f\u0406\u0456]")
    pairs = []
    blocks = [(0xC0, 0x250), (0x370, 0x500), (0x1E00, 0x2000)]
    for first, last in blocks:
        for code in range(first, last):
            char = chr(code)
            decomposed = unicodedata.normalize("NFD", char)
            if len(decomposed) < 2 or "\u0345" in decomposed:  # iota subscript folds to ι
                continue
            if not basic.fullmatch(decomposed[0]) or not char.isalpha():
                continue
            pairs.append((char, decomposed[0].casefold()))
    return pairs


PRECOMPOSED = _precomposed()


def test_every_accented_latin_greek_cyrillic_letter_folds_to_its_base() -> None:
    assert len(PRECOMPOSED) > 500  # the blocks really were read
    wrong = [(c, A.words(c), base) for c, base in PRECOMPOSED if A.words(c) != [base]]
    assert wrong == []


@pytest.mark.parametrize(
    "word",
    ["が", "パ", "ग़", "ক্ষ", "ง่าย", "ที่", "한국"],
)
def test_letters_that_marks_make_stay_apart(word: str) -> None:
    """Kana voicing marks, Indic nuktas and viramas, Thai tone marks and Hangul
    jamo are part of the letter: the word keeps them, in whatever form typed."""
    composed = unicodedata.normalize("NFC", word)
    assert "".join(A.words(word)) == composed
    for form in FORMS:
        assert found(word, unicodedata.normalize(form, word))
    assert not found("か", "が") and not found("ทิ", "ที่")


# --- 2. Word segmentation --------------------------------------------------------


def test_cjk_runs_are_bigrams_with_unigrams() -> None:
    text = "東京都で地震が発生"
    assert A.words(text) == list(text)
    bigrams = ["東京", "京都", "都で", "で地", "地震", "震が", "が発", "発生"]
    assert [t.term for t in A.query_tokens(text)] == bigrams
    assert [t.position for t in A.query_tokens(text)] == list(range(8))
    index = placed(A.tokens(text))
    assert index == [
        pair
        for i, char in enumerate(text)
        for pair in ([(char, i), (text[i : i + 2], i)] if i < 8 else [(char, i)])
    ]


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("東京都で地震が発生", "地震"),
        ("東京都で地震が発生", "震"),
        ("東京都で地震が発生", "地震が発生"),
        ("北京发生地震，造成多人伤亡。", "地震"),
        ("中华人民共和国国务院", "人民共和国"),
        ("トランプ大統領が来日した。", "大統領"),
        ("トランプ大統領が来日した。", "トランプ"),
        ("ﾄﾗﾝﾌﾟ大統領", "トランプ"),
        ("서울에서 지진이 발생했다", "지진"),
        ("서울에서 지진이 발생했다", "서울"),
        ("iPhone発売 2015年9月", "発売"),
        ("iPhone発売 2015年9月", "iphone"),
        ("ภาษาไทยง่ายนิดเดียว", "ไทย"),
        ("ภาษาไทยง่ายนิดเดียว", "ง่าย"),
        ("กรุงเทพมหานครเกิดน้ำท่วม", "น้ำท่วม"),
        ("ພາສາລາວ", "ລາວ"),
        ("ភាសាខ្មែរ", "ខ្មែរ"),
        ("မြန်မာနိုင်ငံ", "မြန်မာ"),
        ("भारत में चुनाव", "चुनाव"),
        ("भारत में चुनाव", "भारत"),
        ("বাংলাদেশে নির্বাচন", "নির্বাচন"),
        ("தமிழ்நாடு சட்டமன்றத் தேர்தல்", "தேர்தல்"),
        ("Launch 🚀 today", "🚀"),
        ("🔥🔥 wildfire", "🔥"),
        ("I ❤️ NY", "❤"),
        ("I ❤ NY", "❤️"),
        ("great 👍🏽", "👍"),
        ("Solidarity 🇺🇦", "🇺🇦"),
        ("family 👨\u200d👩\u200d👧", "👩"),
    ],
)
def test_words_of_every_script_are_found(text: str, typed: str) -> None:
    assert found(text, typed)


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("東京都で地震が発生", "震地"),
        ("東京、大阪", "京大"),
        ("ภาษาไทย", "ไทภ"),
        ("Solidarity 🇺🇦", "🇺🇸"),
        ("family 👨\u200d👩\u200d👧", "👶"),
    ],
)
def test_cjk_and_emoji_do_not_match_what_is_not_there(text: str, typed: str) -> None:
    assert not found(text, typed)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("भारत में चुनाव", ["भारत", "में", "चुनाव"]),
        ("नई दिल्ली में भूकंप", ["नई", "दिल्ली", "में", "भूकंप"]),
        ("বাংলাদেশে নির্বাচন", ["বাংলাদেশে", "নির্বাচন"]),
        ("தமிழ்நாடு சட்டமன்றத் தேர்தல்", ["தமிழ்நாடு", "சட்டமன்றத்", "தேர்தல்"]),
        ("ภาษาไทยง่าย", ["ภ", "า", "ษ", "า", "ไ", "ท", "ย", "ง่", "า", "ย"]),
        ("🚀🔥", ["🚀", "🔥"]),
        ("🇺🇦🇺🇸", ["🇺🇦", "🇺🇸"]),
        ("❤️ 👍🏽 1\ufe0f\u20e3", ["❤", "👍", "1"]),
    ],
)
def test_segmentation(text: str, words: list[str]) -> None:
    assert A.words(text) == words


def test_highlight_offsets_cover_whole_words_of_every_script() -> None:
    text = "भारत में चुनाव — 東京 ﬁnancial Mu\u0308nchen Ebo\u200bla 🚀"
    shown = [text[t.start : t.end] for t in A.tokens(text)]
    assert shown == [
        "भारत", "में", "चुनाव", "東", "東京", "京", "ﬁnancial", "Mu\u0308nchen",
        "Ebo\u200bla", "🚀",
    ]  # fmt: skip


# --- 3. Tokens that carry meaning ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("C++ developers wanted", "C++"),
        ("C++ developers wanted", "c++ developers"),
        ("C++/Java jobs", "c++"),
        ("Notepad++ released", "notepad++"),
        ("learn C# fast", "C#"),
        ("F# and OCaml", "F#"),
        ("C++ developers wanted", "c"),
        ("AT&T wireless", "AT&T"),
        ("AT&T wireless", "at&t wireless"),
        ("AT&T wireless", "at t wireless"),
        ("AT&T's network", "AT&T"),
        ("P&G earnings", "P&G"),
        ("S&P 500 falls", "S&P 500"),
        ("R&D spending", "r&d"),
        ("won 5-4 on penalties", "5-4"),
        ("won 5–4 on penalties", "5-4"),
        ("won 5 4 on penalties", "5-4"),
        ("drew 1-1 at home", "1-1"),
        ("drew 1-1 at home", "1"),
        ("won 3–2", "3-2"),
        ("COVID-19 cases rise", "COVID-19"),
        ("covid 19 cases rise", "COVID-19"),
        ("Covid-19 cases rise", "covid 19 cases"),
        ("COVID-19 cases rise", "covid19"),
        ("COVID-19 cases rise", "19"),
        ("F-16 jets", "F-16"),
        ("F-16 jets", "f16"),
        ("e-mail leak", "email"),
        ("Paris Saint-Germain won", "saint-germain"),
        ("Paris Saint-Germain won", "saint germain"),
        ("the 9/11 attacks", "9/11"),
        ("the 9-11 attacks", "9/11"),
        ("24/7 coverage", "24/7"),
        ("bbc.com reports", "bbc.com"),
        ("bbc.com reports", "bbc"),
        ("O'Brien resigns", "O’Brien"),
        ("l'État français", "etat"),
        ("US troops", "US"),
        ("US troops", "us troops"),
        ("U.S. troops", "US troops"),
        ("US troops", "U.S. troops"),
        ("U.K. economy", "UK"),
        ("the U.N. said", "UN"),
        ("the WHO said", "WHO"),
        ("IT workers", "IT"),
        ("won 3.5 million", "3.5"),
        ("MH17 crash report", "MH17"),
        ("MH17 crash report", "mh 17 crash"),
        ("MH-17 crash report", "mh17"),
        ("the 1Malaysia fund", "malaysia"),
        ("the 1Malaysia fund", "1malaysia fund"),
        ("G20 summit", "g20 summit"),
        ("covid19 cases rise", "COVID-19"),
    ],
)
def test_meaningful_tokens_are_found_as_typed(text: str, typed: str) -> None:
    assert found(text, typed)


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("C developers wanted", "C++"),
        ("C++ developers wanted", "C#"),
        ("at the T-Mobile store", "AT&T"),
        ("won 4-5 on penalties", "5-4"),
        ("COVID cases in 2019", "COVID-19"),
        ("on 11/9", "9/11"),
        ("temple of bel", "temple bel"),
        ("MH71 crash report", "MH17"),
        ("MH17 crash report", "mh 71"),
        ("G2 0 summit", "g20"),
    ],
)
def test_meaningful_tokens_keep_their_meaning(text: str, typed: str) -> None:
    assert not found(text, typed)


def test_positions_contract() -> None:
    assert placed(A.query_tokens("AT&T wireless")) == [("at&t", 0), ("wireless", 2)]
    assert placed(A.tokens("AT&T wireless")) == [
        ("at", 0), ("at&t", 0), ("t", 1), ("wireless", 2),
    ]  # fmt: skip
    assert placed(A.query_tokens("COVID-19")) == [("covid", 0), ("19", 1)]
    text = "COVID-19 now"
    assert [(t.term, t.position, text[t.start : t.end]) for t in A.tokens(text)] == [
        ("covid", 0, "COVID"), ("covid19", 0, "COVID-19"), ("19", 1, "19"), ("now", 2, "now"),
    ]  # fmt: skip
    assert placed(A.query_tokens("C++ jobs")) == [("c++", 0), ("job", 1)]
    assert placed(A.tokens("C++ jobs")) == [("c", 0), ("c++", 0), ("job", 1)]
    assert placed(A.query_tokens("5-4")) == [("5", 0), ("4", 1)]
    assert placed(A.query_tokens("U.S. troops")) == [("us", 0), ("troop", 1)]
    assert placed(A.query_tokens("東京都")) == [("東京", 0), ("京都", 1)]
    assert placed(A.query_tokens("東")) == [("東", 0)]
    assert placed(A.tokens("Temple of Bel")) == [("templ", 0), ("of", 1), ("bel", 2)]


def test_every_word_is_a_token_single_letters_and_digits_too() -> None:
    assert A.words("A 1 b 2 I") == ["a", "1", "b", "2", "i"]
    assert A.words("The US and the UK: 5-4.") == ["the", "us", "and", "the", "uk", "5", "4"]


def test_function_words_are_flagged_capitals_never() -> None:
    tokens = A.query_tokens("What is the US doing in IT for WHO? Us, it, who.")
    assert [(t.word, t.function) for t in tokens] == [
        ("what", True), ("is", True), ("the", True), ("us", False), ("doing", True),
        ("in", True), ("it", False), ("for", True), ("who", False), ("us", True),
        ("it", True), ("who", True),
    ]  # fmt: skip
    assert [t.function for t in A.tokens("U.S. u.s. I A") if t.term.islower()] == [
        False, False, True, True,
    ]  # fmt: skip
    assert all(not t.function for t in A.tokens("東京の地震 🚀 C++ AT&T"))


def test_function_words_are_the_snowball_list() -> None:
    for word in ["the", "of", "and", "us", "we", "don't", "isn't", "would", "very", "ought"]:
        assert word in FUNCTION_WORDS
    for word in ["said", "new", "one", "two", "war", "united", "may", "can", "will"]:
        assert word not in FUNCTION_WORDS
    assert all(word == fold(word) for word in FUNCTION_WORDS)


# --- 4 and 10. Query syntax and apostrophes --------------------------------------


@pytest.mark.parametrize(
    ("typed", "straight"),
    [
        ("“hit north”", '"hit north"'),
        ("„hit north“", '"hit north"'),
        ("«hit north»", '"hit north"'),
        ("»hit north«", '"hit north"'),
        ("‹hit north›", '"hit north"'),
        ("‘hit north’", '"hit north"'),
        ("‚hit north‘", '"hit north"'),
        ("「地震 発生」", '"地震 発生"'),
        ("『地震』", '"地震"'),
        ("“kenya’s” president", '"kenya\'s" president'),
        ("‘Kenya’s’ pride", '"Kenya\'s" pride'),
        ("kenya’s president", "kenya's president"),
        ("countries’ leaders", "countries' leaders"),
        ('"hit north"', '"hit north"'),
    ],
)
def test_typographic_quotes_become_straight(typed: str, straight: str) -> None:
    assert straighten_quotes(typed) == straight


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("What happened in Palmyra?", "What happened in Palmyra"),
        ("Palmyra!", "Palmyra"),
        ("Palmyra?!", "Palmyra"),
        ("Palmyra… again", "Palmyra again"),
        ("¿Qué pasó en Palmira?", "Qué pasó en Palmira"),
        ("¡Goal!", "Goal"),
        ("ماذا حدث؟", "ماذا حدث"),
        ("地震は。", "地震は"),
        ('"what happened?"', '"what happened"'),
        ("(Palmyra?)", "(Palmyra)"),
        ("refug*", "refug*"),
        ("refug*?", "refug*"),
        ("r?fugee", "r?fugee"),
        ("U.S.", "U.S"),
        ("3.14", "3.14"),
    ],
)
def test_sentence_punctuation_is_not_syntax(typed: str, plain: str) -> None:
    assert drop_sentence_punctuation(typed) == plain


def test_query_text_prepares_what_was_typed() -> None:
    assert query_text("“What happened in Palmyra?”") == '"What happened in Palmyra"'
    assert query_text("地震は？") == "地震は"
    assert query_text("＂hit north＂") == '"hit north"'
    assert query_text("refug＊") == "refug*"


@pytest.mark.parametrize(
    "written",
    ["kenya’s", "Kenya's", "KENYA’S", "kenya‘s", "kenyaʼs", "kenya＇s", "kenya´s", "kenya′s"],
)
def test_apostrophes_straight_and_typographic_are_the_same(written: str) -> None:
    assert placed(A.query_tokens(written)) == [("kenya", 0)]
    assert fold(written) == "kenya's"
    assert found(f"{written} president", "kenya's president")
    assert found("kenya's president", f"{written} president")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("don't", "don’t"),
        ("O'Brien", "O’Brien"),
        ("l'État", "l’état"),
        ("rock'n'roll", "rock’n’roll"),
    ],
)
def test_apostrophe_words_are_one_term_whatever_the_apostrophe(one: str, other: str) -> None:
    assert placed(A.query_tokens(one)) == placed(A.query_tokens(other))
    assert A.words(one) == A.words(other)
    assert found(one, other) and found(other, one)


# --- Stemming ----------------------------------------------------------------------

#: Porter2 on words of the Snowball English vocabulary (snowballstem.org,
#: algorithms/english: voc.txt and output.txt).
PORTER2 = {
    "caresses": "caress",
    "ponies": "poni",
    "cats": "cat",
    "running": "run",
    "generously": "generous",
    "consignment": "consign",
    "knightly": "knight",
    "elections": "elect",
    "troops": "troop",
}
#: Lucene's TestEnglishMinimalStemFilter, and the words Harman's rules stem where
#: Lucene's minimal stemmer stops ("ees", "oes").
MINIMAL_STEMS = {
    "refugees": "refugee",
    "trees": "tree",
    "heroes": "heroe",
    "queries": "query",
    "phrases": "phrase",
    "corpus": "corpus",
    "stress": "stress",
    "kings": "king",
    "panels": "panel",
    "aerodynamics": "aerodynamic",
    "congress": "congress",
    "serious": "serious",
}


@pytest.mark.parametrize(("word", "stem"), PORTER2.items())
def test_porter2(word: str, stem: str) -> None:
    assert [t.term for t in A.tokens(word)] == [stem]
    assert [t.word for t in A.tokens(word)] == [word]


@pytest.mark.parametrize(("word", "stem"), MINIMAL_STEMS.items())
def test_minimal(word: str, stem: str) -> None:
    assert [t.term for t in MINIMAL.tokens(word)] == [stem]


@pytest.mark.parametrize(
    "word", ["москвы", "εκλογές", "1990s", "covid19s", "c++", "at&t", "東京", "🚀", "مدارس"]
)
@pytest.mark.parametrize("analyzer", [A, MINIMAL], ids=STEMMERS)
def test_only_english_like_words_are_stemmed(analyzer: Analyzer, word: str) -> None:
    assert all(t.term == t.word for t in analyzer.query_tokens(word))


def test_possessives_and_stems_together() -> None:
    assert [t.term for t in A.tokens("Kenya's elections")] == ["kenya", "elect"]
    assert [t.term for t in MINIMAL.tokens("Kenya's elections")] == ["kenya", "election"]


def test_stemmers_are_named() -> None:
    assert STEMMERS == ("porter2", "minimal")
    with pytest.raises(ValueError, match=r"'snowball'.*porter2, minimal"):
        Analyzer("snowball")


# --- fold: exact values (facets, entity filters, suggestion keys) ------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("AccuWeather", "Accuweather"),
        ("USA Today", "USA TODAY"),
        ("Euronews", "EuroNews"),
        ("München", "Mu\u0308nchen"),
        ("İstanbul", "ISTANBUL"),
        ("Kenya’s Daily Nation", "Kenya's Daily Nation"),
        ("  Al   Jazeera\u00a0English ", "al jazeera english"),
        ("Klimaschutz\u00adgesetz", "klimaschutzgesetz"),
        ("مُحَمَّد", "محمد"),
        ("ＵＮＩＣＥＦ", "unicef"),
    ],
)
def test_fold_makes_written_forms_of_a_value_one(one: str, other: str) -> None:
    assert fold(one) == fold(other)


def test_fold_values() -> None:
    assert fold("  Mu\u0308nchen ") == "munchen"
    assert fold("Paris Saint-Germain") == "paris saint-germain"
    assert fold("Reuters") == "reuters"  # never stemmed
    assert fold("AT&T") != fold("ATT")
    assert fold("\u200b \u00ad") == ""
    assert A.fold("AccuWeather") == "accuweather"


def test_fold_agrees_with_the_words_of_terms() -> None:
    """A token whose text is all letters, marks and digits has that text's fold as
    its word (Thai aside: NFKC splits SARA AM, so a Thai token may point at a whole
    cluster of which it holds a part)."""
    for text in SAMPLE_TEXTS:
        for token in A.tokens(text):
            written = text[token.start : token.end]
            if all(
                (unicodedata.category(c)[0] in "LMN" or c == "\u200c")
                and not "\u0e00" <= c <= "\u0e7f"
                for c in written
            ):
                assert fold(written) == token.word, (text, written)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert once == once.strip() and "  " not in once


# --- The property across scripts ---------------------------------------------------

SAMPLE_TEXTS_NFC = [
    "Zürich und München: Café-Besitzer protestieren gegen die Hauptstraße",
    "São Paulo, Bogotá y Ciudad de México; Łódź i Kraków; Þórshöfn",
    "İstanbul'da seçim: DİYARBAKIR ve İzmir",
    "Việt Nam: bão số 3 đổ bộ",
    "C++ und C# bei AT&T; COVID-19-Fälle steigen (5-4), 9/11, P&G",
    "U.S. and U.K. troops; the US, IT and WHO; Kenya’s president, O’Brien's",
    "Η Ελλάδα ψηφίζει στις εκλογές του Σεπτεμβρίου. ΑΘΗΝΑ: Ο ΠΡΩΘΥΠΟΥΡΓΌΣ",
    "Москва и Санкт-Петербург: выборы в Государственную думу. Ёлка, Київ",
    "مُحَمَّد بن سلمان يزور القاهرة. الأمم المتحدة تدين الهجوم على تدمر محـــمد",
    "می\u200cخواهم به تهران بروم",
    "שָׁלוֹם עֲלֵיכֶם. צה״ל הודיע על מבצע",
    "भारत में चुनाव; नई दिल्ली में भूकंप के झटके",
    "ภาษาไทยง่ายนิดเดียว กรุงเทพมหานครเกิดน้ำท่วม",
    "北京发生地震，造成多人伤亡。中华人民共和国国务院",
    "東京都で地震が発生。トランプ大統領が来日した。ﾄﾗﾝﾌﾟ",
    "서울에서 지진이 발생했다. 대한민국 국회",
    "Launch 🚀 today 🇺🇦 ❤️ 👍🏽 👨\u200d👩\u200d👧 🔥🔥",
    "iPhone発売 2015年9月; Ebo\u200bla, Klimaschutz\u00adgesetz, ﬁnancial, ＵＮＩＣＥＦ, km²",
]
SAMPLE_TEXTS = SAMPLE_TEXTS_NFC + [unicodedata.normalize("NFD", t) for t in SAMPLE_TEXTS_NFC]


def assert_every_word_is_found(text: str, analyzer: Analyzer = A) -> None:
    """Every word of ``text`` as ``words()`` gives it, and every run of up to
    three consecutive words typed with spaces between, typed in any normalisation
    form, is found in ``text`` as a phrase."""
    words = analyzer.words(text)
    typed = list(words)
    typed += [" ".join(words[i : i + size]) for size in (2, 3) for i in range(len(words))]
    for phrase in typed:
        for form in FORMS:
            written = unicodedata.normalize(form, phrase)
            assert found(text, written, analyzer), (text, written)


@pytest.mark.parametrize("text", SAMPLE_TEXTS)
def test_every_word_of_every_script_is_found(text: str) -> None:
    assert A.words(text)
    assert_every_word_is_found(text)
    assert_every_word_is_found(text, MINIMAL)


#: Runs of CJK and Thai letters, by their Unicode blocks (Thai, Hiragana,
#: Katakana, CJK Unified Ideographs, Hangul Syllables, half-width Katakana).
RUNS = re.compile("[\u0e01-\u0e4e\u3041-\u30ff\u4e00-\u9fff\uac00-\ud7a3\uff66-\uff9f]+")


def _mark(char: str) -> bool:
    """Belongs to the letter before it: a mark, Thai SARA AM (a spacing mark in the
    grapheme cluster rules of UAX #29), a half-width voicing mark (NFKC joins it
    to the kana before it)."""
    return unicodedata.category(char).startswith("M") or char in "\u0e33\uff9e\uff9f"


@pytest.mark.parametrize("text", SAMPLE_TEXTS_NFC)
def test_every_cjk_and_thai_stretch_is_found_as_typed(text: str) -> None:
    for run in RUNS.findall(text):
        for i in range(len(run)):
            for j in range(i + 1, min(len(run), i + 6) + 1):
                for form in FORMS:
                    stretch = unicodedata.normalize(form, run[i:j])
                    # Whole letters only: a Thai mark belongs to the letter before it.
                    if not _mark(run[i]) and (j == len(run) or not _mark(run[j])):
                        assert found(text, stretch), (text, stretch)


SAMPLE_WORDS = sorted({w for t in SAMPLE_TEXTS_NFC for w in re.split(r"\s+", t) if w})
SEPARATORS = [" ", "", "-", "&", ".", "'", "’", "/", ", ", "\u00ad", "\u200b", "+", "#", ". "]


@st.composite
def multilingual_texts(draw: st.DrawFn) -> str:
    """Sample words, random Unicode and separators, in one normalisation form."""
    pieces = draw(
        st.lists(
            st.one_of(st.sampled_from(SAMPLE_WORDS), st.text(max_size=6)),
            min_size=1,
            max_size=8,
        )
    )
    text = ""
    for piece in pieces:
        text += piece + draw(st.sampled_from(SEPARATORS))
    return unicodedata.normalize(draw(st.sampled_from(FORMS)), text)


@pytest.mark.slow  # 250 generated texts
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multilingual_texts())
def test_every_word_of_generated_text_is_found(text: str) -> None:
    assert_every_word_is_found(text)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_every_word_of_any_unicode_is_found(text: str) -> None:
    assert_every_word_is_found(text)


def _several_words(char: str) -> bool:
    """NFKC makes more than a letter of it, with a non-letter: ¼ -> 1⁄4, ㈱ -> (株)."""
    expanded = unicodedata.normalize("NFKC", char)
    return len(expanded) > 1 and not all(unicodedata.category(c)[0] in "LMN" for c in expanded)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multilingual_texts())
def test_offsets_point_at_the_token_in_the_original_text(text: str) -> None:
    """The text a token points at makes, on its own, a token of the same term
    (unless it holds a character that NFKC makes several words of: ``¼``)."""
    last = -1
    for token in A.tokens(text):
        assert 0 <= token.start < token.end <= len(text), (text, token)
        assert token.position >= last, (text, token)
        last = token.position
        written = text[token.start : token.end]
        if any(_several_words(char) for char in written):
            continue
        alone = {t.term for t in A.tokens(written)}
        assert token.term in alone, (text, token)


# --- Sharing, pickling, long input -------------------------------------------------


def test_pickles_without_its_cache() -> None:
    fresh = pickle.dumps(Analyzer("minimal"))
    used = Analyzer("minimal")
    used.tokens(" ".join(SAMPLE_TEXTS))
    assert pickle.dumps(used) == fresh
    restored = pickle.loads(pickle.dumps(used))
    assert restored == used and restored != A
    assert restored.tokens("Kenya's queries") == used.tokens("Kenya's queries")


def test_tokens_are_frozen_values() -> None:
    (token,) = A.tokens("  Kenya")
    assert token == Token("kenya", "kenya", 0, 2, 7, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.term = "x"  # type: ignore[misc]


def test_one_analyzer_serves_many_threads() -> None:
    texts = [f"{text} {i}" for i in range(40) for text in SAMPLE_TEXTS_NFC]
    expected = [Analyzer().tokens(text) for text in texts]
    shared = Analyzer()
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(shared.tokens, texts)) == expected


def test_long_words_and_runs() -> None:
    letters = "x" * 3000
    assert [(t.start, t.end) for t in A.tokens(f"a {letters} b")] == [
        (0, 1),
        (2, 3002),
        (3003, 3004),
    ]
    cjk = "地震" * 440
    tokens = A.tokens(cjk)
    assert len(tokens) == 880 + 879
    assert tokens[-1].end == len(cjk)
    assert A.tokens("") == [] and A.tokens(" \n\t ") == [] and A.words("…—!") == []
