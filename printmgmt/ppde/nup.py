"""The n-up orientation table: which `orientation-requested` and `number-up-layout` to send.

See NUP.md next to this module for the derivation in prose. In short:

1. A page is *viewed* landscape when its media box is landscape, toggled by every odd quarter
   turn of its /Rotate, its content rotation and the user's rotation.
2. For N-up, the cell grid that gives the largest pages decides whether cells lie *across*
   the portrait sheet (2, 6, 8-up on ISO paper) or along it (1, 4, 9, 16-up). We compute
   this from the geometry instead of listing it, so every N gets an answer.
3. The sheet is *read* landscape when the viewed page and the cell disagree.
4. House convention (SavaPage's): content on a sheet read landscape is turned 90° clockwise
   ("Minus90"), so that staple-top-right of the portrait sheet lands top-left of what the
   reader sees. The rotate-180 marker, and a user rotation of 180° or 270°, add a half turn.
5. `orientation-requested` is the value whose rotation *by this driver* equals the turn we
   want: RFC 8011 defines landscape (4) as +90° (anticlockwise) — a Plus90 driver — and a
   Minus90 driver turns the other way.
6. `number-up-layout` is the reader's left-to-right, top-to-bottom order expressed in the
   frame in which the driver lays out cells: the sheet itself, or for grids lying across
   the sheet, the sheet turned the way this driver turns landscape.

Custom `*SPRule/number-up:` rows are consulted first; the first whose inputs all match wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from printmgmt.ppde.model import LandscapeOrientation, NupRule

#: The most pages a sheet side takes: far beyond any printer's number-up-supported (16, 32), and
#: small enough that no layout work grows with it.
MAX_NUMBER_UP = 100

PageOrientation = Literal["portrait", "landscape"]

#: orientation-requested value → the turn it asks for, in degrees anticlockwise, per driver.
_DRIVER_TURN: dict[LandscapeOrientation, dict[int, int]] = {
    LandscapeOrientation.PLUS90: {3: 0, 4: 90, 5: 270, 6: 180},
    LandscapeOrientation.MINUS90: {3: 0, 4: 270, 5: 90, 6: 180},
}

#: The reader's lrtb order seen from a frame in which the content is turned this far
#: anticlockwise: the reader's "right" and "down" become these directions in that frame.
_LAYOUT_FOR_TURN = {0: "lrtb", 90: "btlr", 180: "rlbt", 270: "tbrl"}


@dataclass(frozen=True, slots=True)
class PageGeometry:
    """How the document's pages lie, as found when the PDF was analysed."""

    orientation: PageOrientation = "portrait"  # of the media box, before /Rotate
    rotation: int = 0  # the page's /Rotate
    content_rotation: int = 0  # content drawn turned inside the page
    user_rotate: int = 0  # rotation the user asked for


@dataclass(frozen=True, slots=True)
class NupDecision:
    """What to send; None means "do not send this attribute"."""

    orientation_requested: int | None
    number_up_layout: str | None
    landscape_sheet: bool
    #: The custom row that decided, or None for the built-in table.
    rule: NupRule | None


def cells_lie_across(number_up: int) -> bool:
    """Whether N pages fit larger turned across a portrait ISO sheet than upright on it.

    Sheet and pages share the ISO aspect ratio √2. Upright in a c×r grid a page scales by
    min(1/c, 1/r); turned, by min(1/(c√2), √2/r). We compare squares to stay rational.
    """
    upright = Fraction(0)
    turned = Fraction(0)
    for columns in range(1, number_up + 1):
        if number_up % columns:
            continue
        rows = number_up // columns
        upright = max(upright, min(Fraction(1, columns**2), Fraction(1, rows**2)))
        turned = max(turned, min(Fraction(1, 2 * columns**2), Fraction(2, rows**2)))
    return turned > upright


def builtin_decision(
    driver: LandscapeOrientation,
    *,
    viewed_landscape: bool,
    number_up: int,
    half_turn: bool,
) -> NupDecision:
    """One row of the built-in table (see the module docstring for the reasoning)."""
    across = number_up > 1 and cells_lie_across(number_up)
    landscape_sheet = viewed_landscape != across
    wanted = (270 if landscape_sheet else 0) + (180 if half_turn else 0)
    wanted %= 360
    turns = _DRIVER_TURN[driver]
    orientation = next(value for value, turn in turns.items() if turn == wanted)
    layout: str | None = None
    if number_up > 1:
        frame = turns[4] if across else 0
        layout = _LAYOUT_FOR_TURN[(wanted - frame) % 360]
    # Portrait (3) is every printer's default; leaving it out keeps the driver's own
    # handling of single pages, and lrtb is the default layout.
    return NupDecision(
        None if orientation == 3 else orientation,
        None if layout == "lrtb" else layout,
        landscape_sheet,
        None,
    )


def nup_decision(
    driver: LandscapeOrientation,
    geometry: PageGeometry,
    *,
    number_up: int,
    rotate180: bool,
    custom_rules: Sequence[NupRule] = (),
) -> NupDecision:
    """The orientation and layout to send for a job, custom rows first."""
    user_rotate = (geometry.user_rotate + (180 if rotate180 else 0)) % 360
    inputs = {
        "pdf-orientation": geometry.orientation,
        "pdf-rotation": str(geometry.rotation % 360),
        "pdf-content-rotation": str(geometry.content_rotation % 360),
        "user-rotate": str(user_rotate),
        "number-up": str(number_up),
    }
    for rule in custom_rules:
        if all(value in ("-", inputs[key]) for key, value in rule.inputs):
            return NupDecision(
                rule.orientation_requested, rule.number_up_layout, rule.landscape, rule
            )
    quarter_turns = (geometry.rotation + geometry.content_rotation + geometry.user_rotate) // 90
    viewed_landscape = (geometry.orientation == "landscape") != (quarter_turns % 2 == 1)
    half_turn = (user_rotate // 180) % 2 == 1
    return builtin_decision(
        driver, viewed_landscape=viewed_landscape, number_up=number_up, half_turn=half_turn
    )
