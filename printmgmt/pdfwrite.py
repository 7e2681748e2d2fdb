"""The object layer of a PDF written while it is made, in constant memory.

reportlab and pypdf hold a whole document until it is saved; a usage listing of a million
records (tens of thousands of pages) and a phone's raster of hundreds of page images must not.
Numbered objects go to the output at once and only their byte offsets are kept, for the
cross-reference table written at the end. What the objects say is up to the caller.
"""

from __future__ import annotations

from typing import IO

_HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


class PdfObjectWriter:
    """Objects numbered from 1; numbers below `first_free` are the caller's fixed ones (catalog,
    page tree, fonts...), which it must write before `finish`."""

    def __init__(self, output: IO[bytes], first_free: int) -> None:
        self._output = output
        self.position = 0
        self._offsets: dict[int, int] = {}
        self._next_number = first_free
        self.write(_HEADER)

    def write(self, data: bytes) -> None:
        self._output.write(data)
        self.position += len(data)

    def allocate(self, count: int = 1) -> list[int]:
        numbers = list(range(self._next_number, self._next_number + count))
        self._next_number += count
        return numbers

    def begin_object(self, number: int) -> None:
        """Start an object whose body the caller writes in pieces, then `end_object`."""
        self._offsets[number] = self.position
        self.write(b"%d 0 obj\n" % number)

    def end_object(self) -> None:
        self.write(b"\nendobj\n")

    def object(self, number: int, body: bytes) -> None:
        self.begin_object(number)
        self.write(body)
        self.end_object()

    def finish(self, trailer_entries: bytes) -> None:
        """The cross-reference table and the trailer (/Size, then `trailer_entries`, e.g.
        b"/Root 1 0 R"); the output is not closed."""
        table_at = self.position
        size = self._next_number
        entries = [b"0000000000 65535 f \n"]
        entries += [b"%010d 00000 n \n" % self._offsets[number] for number in range(1, size)]
        self.write(b"xref\n0 %d\n%s" % (size, b"".join(entries)))
        self.write(
            b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n"
            % (size, trailer_entries, table_at)
        )
