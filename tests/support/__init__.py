"""What the tests and the benchmarks share, owned by the tests.

- ``gunicorn``: a real gunicorn serving the API on a free loopback port.
- ``indexes``: index builders: the ``indexer`` command as an operator runs it, the
  rebuild job in-process, canonical JSON Lines of events, a test client of a new index.
- ``model`` and ``generate``: the deterministic synthetic event generator (what events
  look like; events, JSON Lines and event pages).
- ``processes``: the child processes of a process, and their CPU time, from /proc.

The benchmarks (``bench/``) import these; nothing here imports ``bench``, so the tests
never depend on the benchmarks.
"""
