"""Documents the tests print, made on the spot: ipptool's sample files and one of each format."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from reportlab.lib.pagesizes import A4, LETTER

from tests.pdfs import make_pdf


def make_postscript(path: Path, pages: int, *, size: tuple[float, float] = A4) -> Path:
    body = "".join(
        f"%%Page: {n} {n}\n/Helvetica findfont 48 scalefont setfont\n"
        f"72 {size[1] / 2:.0f} moveto (Page {n}) show\nshowpage\n"
        for n in range(1, pages + 1)
    )
    path.write_text(
        f"%!PS-Adobe-3.0\n%%Pages: {pages}\n%%EndComments\n"
        f"<< /PageSize [{size[0]:.0f} {size[1]:.0f}] >> setpagedevice\n{body}%%EOF\n"
    )
    return path


def make_image(path: Path, *, mode: str = "RGB", size: tuple[int, int] = (300, 200)) -> Path:
    colour = (200, 30, 30) if mode == "RGB" else 128
    Image.new(mode, size, colour).save(path)
    return path


def make_ipptool_documents(directory: Path) -> Path:
    """The files ipp-1.1.test, ipp-2.0.test and print-job-hold.test send (Debian ships none);
    ipptool looks for them in its working directory."""
    make_pdf(directory / "testfile.pdf", 2)
    make_pdf(directory / "document-a4.pdf", 2)
    make_pdf(directory / "document-letter.pdf", 2, size=LETTER)
    make_postscript(directory / "document-a4.ps", 2)
    make_postscript(directory / "document-letter.ps", 2, size=LETTER)
    make_image(directory / "color.jpg")
    make_image(directory / "gray.jpg", mode="L")
    return directory / "testfile.pdf"
