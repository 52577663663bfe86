"""Benchmarks: run with `make bench` (or `python -m bench NAME`); figures go to bench/RESULTS.md."""
