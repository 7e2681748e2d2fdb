"""Helpers shared by the IPP tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from printmgmt.ipp import AttributeGroup, PyValue


def write_pdf(path: Path, pages: int = 1) -> Path:
    """A small valid PDF (blank pages), so that cupsd's filters accept it."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + i} 0 R".encode() for i in range(pages))
        + f"] /Count {pages} >>".encode(),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref_at = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    body += f"startxref\n{xref_at}\n%%EOF\n".encode()
    path.write_bytes(bytes(body))
    return path


def first_values(groups: Iterable[AttributeGroup], name: str) -> list[PyValue]:
    """The first value of ``name`` in each group that has it (e.g. job-id of every job)."""
    found = (group.get(name) for group in groups)
    return [attribute.value for attribute in found if attribute is not None]
