"""Tests of the cost model (analysis.costs)."""
