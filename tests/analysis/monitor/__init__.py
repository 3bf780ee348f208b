"""Tests of the municipal monitor."""
