"""Input formats.  ``read_file`` detects a file's format by its content."""

from indexer.formats.detect import read_file
from indexer.formats.reject import Reject, not_regular

__all__ = ["Reject", "not_regular", "read_file"]
