"""Counts in English, for what the product says in English only (command output, our IPP
printer's and the raster reader's messages); what users read in their language is counted
with ngettext instead."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun` in its form for that number: "1 page", "2 pages"; `plural` for a
    noun that does not add an s ("1 entry", "2 entries")."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
