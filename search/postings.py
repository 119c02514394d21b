"""A segment's postings, term dictionary and field lengths, as plain arrays on disk.

whoosh keeps postings in pickled, compressed blocks decoded in Python at every
read.  As a writer commits, each new (or merged) segment's postings are also
written here, once, as flat numpy files that readers map into memory (shared
between the workers through the page cache) and slice in microseconds.  This is
the engine's only read path to postings: whoosh's own copy is the system of
record, opened by whoosh's public API in the tests' reference oracle.

    postings/<segment id>/
        lexicon.npy          every term's bytes, laid end to end, in (field, term) order
        lexicon_offsets.npy  where term t's bytes start; t + 1 where they end (int64)
        fields.json          field -> [first, end) term numbers, and the hash salt
        starts.npy           where term t's postings start in docs/weights (int64)
        counts.npy           how many postings (documents) term t has (int64)
        docs.npy             document numbers, segment-local, deleted ones included (int32)
        weights.npy          term frequency of each posting (float32)
        pstarts.npy          where term t's word positions start (-1: field without positions)
        positions.npy        the positions of each posting in turn, as many as its frequency
        lengths.npy          per LENGTH_FIELDS field, every document's length in words
                             (the sum of its term frequencies), shape (fields, documents)
        keys.npy             sorted 64-bit hashes of (field, term), for lookups (uint64)
        key_terms.npy        the term number of each key (int64)

A term is found by its hash.  Two terms of one segment could share a hash (odds
about 10⁻⁸ for a segment of a million terms); the writer checks, and on a
collision hashes the whole segment again with another salt, which it records.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.errors import IndexDamaged

__all__ = [
    "INDEXED_FIELDS",
    "LENGTH_FIELDS",
    "POSITION_FIELDS",
    "POSTINGS_DIR",
    "PostingsCollector",
    "SegmentPostings",
    "remove_unused",
    "segment_directory",
    "term_key",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Every field of the schema that has postings.
INDEXED_FIELDS = (
    "title",
    "body",
    "entity",
    "source",
    "entity_value",
    "source_value",
    "source_domain",
    "category",
    "story",
    "related",
    "id",
)
#: The fields whose word positions are kept (phrases and proximity read them).
POSITION_FIELDS = frozenset({"title", "body", "entity", "source"})
#: The fields whose document lengths are kept (BM25F normalises by them), in order.
LENGTH_FIELDS = ("title", "body", "entity", "source")
POSTINGS_DIR = "postings"
_ARRAYS = (
    "lexicon",
    "lexicon_offsets",
    "starts",
    "counts",
    "docs",
    "weights",
    "pstarts",
    "positions",
    "lengths",
    "keys",
    "key_terms",
)
_NO_POSITIONS = -1
_FIELD_ORDER = {name: i for i, name in enumerate(INDEXED_FIELDS)}


def term_key(fieldname: str, term: bytes, salt: int = 0, bits: int = 64) -> int:
    """The key of a term of a field: the top ``bits`` bits of its BLAKE2b hash (8 bytes,
    little-endian), salted with ``salt``."""
    digest = hashlib.blake2b(
        fieldname.encode() + b"\x00" + term, digest_size=8, salt=salt.to_bytes(16, "little")
    ).digest()
    return int.from_bytes(digest, "little") >> (64 - bits)


def segment_directory(generation_path: Path, segment_id: str) -> Path:
    """Where segment ``segment_id``'s arrays (and stored events) are kept."""
    return generation_path / POSTINGS_DIR / segment_id


class PostingsCollector:
    """Gathers a segment's postings while whoosh writes them (in the writer process,
    so that parallel writers do it in parallel), then saves them as arrays.

    whoosh hands its field writer every posting once, sorted by field, term and
    document (search/writer_hooks.py): ``tee`` passes them through and keeps
    those of INDEXED_FIELDS, with the word positions of POSITION_FIELDS."""

    def __init__(self, key_bits: int = 64) -> None:
        """``key_bits``: the width of the terms' hash keys (64; fewer only to exercise
        collisions)."""
        self.key_bits = key_bits
        self.lexicon = bytearray()
        self.offsets = array("q", [0])
        self.term_fields = array("b")
        self.counts = array("q")
        self.pstarts = array("q")
        self.docs = array("i")
        self.weights = array("f")
        self.positions = array("i")
        self.field_ranges: dict[str, list[int]] = {}

    def _start_term(self, fieldname: str, text: bytes, placed: bool) -> None:
        number = len(self.counts)
        span = self.field_ranges.setdefault(fieldname, [number, number])
        span[1] = number + 1
        self.lexicon += text
        self.offsets.append(len(self.lexicon))
        self.term_fields.append(_FIELD_ORDER[fieldname])
        self.counts.append(0)
        self.pstarts.append(len(self.positions) if placed else _NO_POSITIONS)

    def tee(
        self, items: Iterable[tuple[Any, ...]], decode: Callable[[bytes], list[int]]
    ) -> Iterator[tuple[Any, ...]]:
        """Yield ``items`` (fieldname, term, docnum, weight, value) unchanged, keeping
        their postings; ``decode`` turns a value into the gaps between positions."""
        wanted = _FIELD_ORDER
        counts = self.counts
        add_doc, add_weight = self.docs.append, self.weights.append
        add_positions = self.positions.extend
        field, text, placed = "", b"", False
        for item in items:
            if item[0] in wanted:
                if item[1] != text or item[0] != field:
                    field, text = item[0], item[1]
                    placed = field in POSITION_FIELDS
                    self._start_term(field, text, placed)
                add_doc(item[2])
                add_weight(item[3])
                counts[-1] += 1
                if placed:
                    gaps = decode(item[4])
                    if len(gaps) != item[3]:
                        raise ValueError(
                            f"{field}:{text!r}: a posting of weight {item[3]} has "
                            f"{len(gaps)} positions; the analyzer must not boost tokens"
                        )
                    add_positions(accumulate(gaps))
            yield item

    def save(
        self,
        generation_path: Path,
        segment_id: str,
        extra: Mapping[str, Path | npt.NDArray[Any]] | None = None,
    ) -> Path:
        """Write the arrays of segment ``segment_id`` atomically (a directory renamed
        into place once complete); returns their directory.  ``extra``: more of the
        segment's files, by name: an array (saved with ``np.save``) or a finished file
        (moved in)."""
        counts = np.frombuffer(self.counts, dtype=np.int64).copy()
        docs = np.frombuffer(self.docs, dtype=np.int32).copy()
        weights = np.frombuffer(self.weights, dtype=np.float32).copy()
        starts = np.zeros(len(counts), dtype=np.int64)
        if len(counts):
            np.cumsum(counts[:-1], out=starts[1:])
        offsets = np.frombuffer(self.offsets, dtype=np.int64).copy()
        lexicon = np.frombuffer(bytes(self.lexicon), dtype=np.uint8)
        keys, salt = _keys(
            lexicon, offsets, np.frombuffer(self.term_fields, dtype=np.int8), self.key_bits
        )
        order = np.argsort(keys, kind="stable")
        arrays: dict[str, npt.NDArray[Any]] = {
            "lexicon": lexicon,
            "lexicon_offsets": offsets,
            "starts": starts,
            "counts": counts,
            "docs": docs,
            "weights": weights,
            "pstarts": np.frombuffer(self.pstarts, dtype=np.int64).copy(),
            "positions": np.frombuffer(self.positions, dtype=np.int32).copy(),
            "lengths": _lengths(self.term_fields, counts, docs, weights),
            "keys": keys[order],
            "key_terms": order.astype(np.int64),
        }
        meta = {"fields": self.field_ranges, "salt": salt, "key_bits": self.key_bits}
        target = segment_directory(generation_path, segment_id)
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name, values in arrays.items():
            np.save(tmp / f"{name}.npy", values)
        (tmp / "fields.json").write_text(json.dumps(meta))
        for name, item in (extra or {}).items():
            if isinstance(item, Path):
                os.replace(item, tmp / name)
            else:
                np.save(tmp / name, item)
        try:
            tmp.rename(target)
        except OSError:  # another process got there first: its copy is the same
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def _keys(
    lexicon: npt.NDArray[np.uint8],
    offsets: IntArray,
    term_fields: npt.NDArray[np.int8],
    bits: int,
) -> tuple[npt.NDArray[np.uint64], int]:
    """Every term's hash, with the first salt that gives no two terms the same one."""
    blob = lexicon.tobytes()
    names = INDEXED_FIELDS
    bounds = offsets.tolist()
    fields = term_fields.tolist()
    salt = 0
    while True:
        keys = np.fromiter(
            (
                term_key(names[f], blob[bounds[t] : bounds[t + 1]], salt, bits)
                for t, f in enumerate(fields)
            ),
            dtype=np.uint64,
            count=len(fields),
        )
        if len(np.unique(keys)) == len(keys):
            return keys, salt
        salt += 1


def _lengths(
    term_fields: array[int], counts: IntArray, docs: npt.NDArray[np.int32], weights: Any
) -> npt.NDArray[np.float32]:
    """Each LENGTH_FIELDS field's length in every document: the sum of its postings'
    term frequencies.  The segment's documents all have an ``id`` posting, so the
    largest document number seen is the last one."""
    size = int(docs.max()) + 1 if len(docs) else 0
    per_posting = np.repeat(np.frombuffer(term_fields, dtype=np.int8), counts)
    found = np.zeros((len(LENGTH_FIELDS), size), dtype=np.float32)
    for row, name in enumerate(LENGTH_FIELDS):
        mask = per_posting == _FIELD_ORDER[name]
        found[row] = np.bincount(docs[mask], weights=weights[mask], minlength=size)
    return found


def remove_unused(generation_path: Path, segment_ids: set[str]) -> None:
    """Remove the arrays of segments the index no longer has (merged away)."""
    directory = generation_path / POSTINGS_DIR
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.name not in segment_ids and not entry.name.startswith("."):
                shutil.rmtree(entry, ignore_errors=True)


class SegmentPostings:
    """One segment's postings arrays, memory-mapped (read-only, shared by threads)."""

    def __init__(self, directory: Path) -> None:
        try:
            # Plain ndarray views of the maps: numpy's memmap subclass costs a Python
            # call per slice, and a search slices thousands of times.
            arrays = {
                name: np.load(directory / f"{name}.npy", mmap_mode="r").view(np.ndarray)
                for name in _ARRAYS
            }
            meta = json.loads((directory / "fields.json").read_text())
        except OSError as exc:
            raise IndexDamaged(
                f"postings/{directory.name} cannot be read ({exc.strerror})"
            ) from None
        except ValueError:  # its text may quote the file: named, not shown
            raise IndexDamaged(f"postings/{directory.name} does not hold postings arrays") from None
        self.lexicon = arrays["lexicon"]
        self.offsets = arrays["lexicon_offsets"]
        self.starts = arrays["starts"]
        self.counts = arrays["counts"]
        self.docs = arrays["docs"]
        self.weights = arrays["weights"]
        self.pstarts = arrays["pstarts"]
        self.positions = arrays["positions"]
        self._lengths = arrays["lengths"]
        self.keys = arrays["keys"]
        self.key_terms = arrays["key_terms"]
        self.salt = int(meta["salt"])
        self.key_bits = int(meta["key_bits"])
        self.fields: dict[str, tuple[int, int]] = {
            name: (int(first), int(end)) for name, (first, end) in meta["fields"].items()
        }

    @classmethod
    def open(cls, generation_path: Path, segment_id: str) -> SegmentPostings:
        """The segment's arrays; IndexDamaged when they are missing or unreadable."""
        return cls(segment_directory(generation_path, segment_id))

    # Terms

    def number(self, fieldname: str, term: bytes) -> int | None:
        """The term's number in this segment, or None when the segment lacks it."""
        key = np.uint64(term_key(fieldname, term, self.salt, self.key_bits))
        at = int(np.searchsorted(self.keys, key))
        if at >= len(self.keys) or self.keys[at] != key:
            return None
        return int(self.key_terms[at])

    def term(self, number: int) -> bytes:
        """The bytes of term ``number``."""
        return bytes(self.lexicon[self.offsets[number] : self.offsets[number + 1]])

    def field_terms(self, fieldname: str) -> range:
        """The numbers of a field's terms, in sorted order."""
        first, end = self.fields.get(fieldname, (0, 0))
        return range(first, end)

    def prefixed(self, fieldname: str, prefix: bytes) -> range:
        """The numbers of the field's terms that start with ``prefix``, in sorted order."""
        terms = self.field_terms(fieldname)
        view = _TermView(self, terms)
        low = bisect.bisect_left(view, prefix)
        # UTF-8 never holds the byte 0xff: every term with the prefix sorts before this.
        high = bisect.bisect_left(view, prefix + b"\xff", lo=low)
        return range(terms.start + low, terms.start + high)

    def frequency(self, number: int) -> int:
        """How many documents have term ``number`` (deleted ones included)."""
        return int(self.counts[number])

    # Postings

    def get(self, fieldname: str, term: bytes) -> tuple[IntArray, FloatArray]:
        """The term's document numbers and frequencies (empty when it is not here)."""
        number = self.number(fieldname, term)
        if number is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return self.postings(number)

    def postings(self, number: int) -> tuple[IntArray, FloatArray]:
        """Term ``number``'s document numbers and frequencies."""
        start, count = int(self.starts[number]), int(self.counts[number])
        return (
            np.asarray(self.docs[start : start + count], dtype=np.int64),
            np.asarray(self.weights[start : start + count], dtype=np.float64),
        )

    def places(self, fieldname: str, term: bytes) -> tuple[IntArray, IntArray]:
        """Every (document, word position) of the term, as two aligned arrays sorted
        by document then position (empty when it is not here or has no positions)."""
        number = self.number(fieldname, term)
        empty = np.zeros(0, dtype=np.int64)
        if number is None:
            return empty, empty
        pstart = int(self.pstarts[number])
        if pstart == _NO_POSITIONS:
            return empty, empty
        start, count = int(self.starts[number]), int(self.counts[number])
        frequencies = np.asarray(self.weights[start : start + count], dtype=np.int64)
        docs = np.repeat(np.asarray(self.docs[start : start + count], dtype=np.int64), frequencies)
        places = np.asarray(self.positions[pstart : pstart + len(docs)], dtype=np.int64)
        return docs, places

    def lengths(self, fieldname: str, doc_count: int) -> FloatArray:
        """Every document's length in a LENGTH_FIELDS field, in words (0 where empty)."""
        row = np.asarray(self._lengths[LENGTH_FIELDS.index(fieldname)], dtype=np.float64)
        if len(row) < doc_count:  # documents past the last posting have no words
            row = np.concatenate([row, np.zeros(doc_count - len(row))])
        return row


class _TermView:
    """A field's sorted terms as a sequence, for ``bisect``."""

    def __init__(self, postings: SegmentPostings, terms: range) -> None:
        self.postings = postings
        self.terms = terms

    def __len__(self) -> int:
        return len(self.terms)

    def __getitem__(self, index: int) -> bytes:
        return self.postings.term(self.terms.start + index)
