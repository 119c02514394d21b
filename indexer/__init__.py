"""The indexer: input formats -> events -> index jobs, and the ``indexer`` command."""
