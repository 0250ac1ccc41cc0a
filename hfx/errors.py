"""Errors that the command line turns into one line on stderr and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: a malformed option, an unknown id, an impossible value."""
