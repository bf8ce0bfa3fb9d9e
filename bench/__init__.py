"""Benchmarks: each prints its figures as ratios of a ceiling measured in the same run."""
