"""Benchmarks: each in its own folder (run.py); scratch.py is the scratch database they share."""
