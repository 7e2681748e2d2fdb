"""A JPEG or PNG image as a one-page PDF, in a child process: `python -m apps.jobs.image_pdf
SOURCE TARGET`.

An image near the pixel limit takes a gigabyte of memory and seconds of CPU to decode and
embed: apps/jobs/convert.py runs this in a child limited in both, so that the cost falls on
the child, never on the web process that received the image. No Django: the answer is one line
on standard output, `ok`, `too-large WIDTH HEIGHT` or `unreadable REASON` (the reason is for the
log: Pillow's messages name paths on this server), which the parent turns into a message.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

_IMAGE_MARGIN = 18
# Images larger than this are a decompression bomb, not a photo (a 48-megapixel phone photo is
# well below; decoded as RGB this is 300 MB).
MAX_IMAGE_PIXELS = 100_000_000


class ImageTooLarge(Exception):
    def __init__(self, width: int = 0, height: int = 0) -> None:
        super().__init__(width, height)
        self.width, self.height = width, height


def image_to_pdf(source: Path, target: Path) -> None:
    """One A4 page with the upright image scaled to fit, landscape when it is wider.

    Raises ImageTooLarge, or UnidentifiedImageError, OSError or ValueError for an image that
    cannot be read."""
    try:
        with Image.open(source) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageTooLarge(width, height)
            image.load()  # decode now: a truncated file fails here, not inside reportlab
            # Upright as its orientation tag says: phones store a portrait photo on its side.
            ImageOps.exif_transpose(image, in_place=True)
            width, height = image.size
            reader = ImageReader(_on_paper(image))
            page = (A4[1], A4[0]) if width > height else A4
            scale = min(
                (page[0] - 2 * _IMAGE_MARGIN) / width, (page[1] - 2 * _IMAGE_MARGIN) / height
            )
            drawn = (width * scale, height * scale)
            canvas = Canvas(str(target), pagesize=page, invariant=True)
            canvas.drawImage(reader, (page[0] - drawn[0]) / 2, (page[1] - drawn[1]) / 2, *drawn)
            canvas.showPage()
            canvas.save()
    except Image.DecompressionBombError:
        raise ImageTooLarge() from None


def _on_paper(image: Image.Image) -> Image.Image:
    """The image in RGB or grey, as printed on white paper: what is transparent shows the paper
    (converted on its own, a transparent background comes out black)."""
    if image.mode.startswith("I"):
        # 16-bit grey: scaled to 8 bits (converted on its own, every grey from 1/256 up is
        # clipped to white).
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        image_to_pdf(source, target)
    except ImageTooLarge as error:
        answer = f"too-large {error.width} {error.height}"
    except (UnidentifiedImageError, OSError, ValueError) as error:
        answer = f"unreadable {error}".replace("\n", " ")
    else:
        answer = "ok"
    sys.stdout.write(answer + "\n")


if __name__ == "__main__":
    main()
