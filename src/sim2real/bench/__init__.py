"""Benchmarks reported as ratios against the raw libraries underneath, measured in one run."""
