"""Thin Discord front ends: parse commands into service calls, nothing more."""
