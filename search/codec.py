"""How segments are written: whoosh's own format, tuned for how this engine reads it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter

from search.termindex import PostingsCollector

__all__ = ["EventCodec"]


class _FieldWriter(W3FieldWriter):  # type: ignore[misc]
    """whoosh's field writer, which also saves the segment's postings arrays
    (search/termindex.py) as it writes the postings."""

    def __init__(self, codec: W3Codec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._collector: PostingsCollector | None = None

    def add_postings(self, schema: Any, lengths: Any, items: Iterable[tuple[Any, ...]]) -> None:
        self._collector = PostingsCollector()
        super().add_postings(schema, lengths, self._collector.tee(items))

    def close(self) -> None:
        super().close()
        folder = getattr(self._storage, "folder", None)
        if self._collector is not None and folder:
            self._collector.save(Path(folder), self._segment.segment_id())
            self._collector = None


class EventCodec(W3Codec):  # type: ignore[misc]
    """whoosh's W3 format without per-block length statistics, whose writers also
    save each segment's postings arrays.

    whoosh records each posting block's shortest and longest document for its own
    block-skipping, which this engine does not use (queries are scored over whole
    postings arrays); gathering them costs a file-system check per posting of
    every field without lengths.  Rare terms keep their postings inline in the
    term index."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 3, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)
