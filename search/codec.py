"""How segments are written: whoosh's own format, tuned for how this engine reads it."""

from __future__ import annotations

from whoosh.codec.whoosh3 import W3Codec

__all__ = ["EventCodec"]


class EventCodec(W3Codec):  # type: ignore[misc]
    """whoosh's W3 format without per-block length statistics.

    whoosh records each posting block's shortest and longest document for its own
    block-skipping, which this engine does not use (queries are scored over whole
    postings arrays); gathering them costs a file-system check per posting of
    every field without lengths.  Rare terms keep their postings inline in the
    term index."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 3, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)
