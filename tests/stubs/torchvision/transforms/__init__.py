"""Test stub (see tests/stubs/README.md)."""
