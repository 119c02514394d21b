"""``python -m bench.relevance``: the same command as ``python -m bench relevance``."""

from bench.relevance.suite import main

main(prog_name="python -m bench.relevance")
