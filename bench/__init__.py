"""Benchmarks of the event search service."""
