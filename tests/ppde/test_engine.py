"""Options, constraints and translation for the two targets."""

from __future__ import annotations

import pytest

from printmgmt.ppde import (
    JobAttributes,
    OutValue,
    PageGeometry,
    PrinterAttributes,
    RuleEngine,
    Syntax,
    Target,
)
from printmgmt.ppde.engine import booklet_constraints, effective_attributes
from printmgmt.ppde.finishings import finishing_number

from .helpers import engine

OFFICE = """
*PageSize media
*PageSize *A4 iso_a4_210x297mm
*PageSize A5 iso_a5_148x210mm
*InputSlot media-source
*InputSlot *Auto auto
*InputSlot Manual +manual
*Duplex sides
*Duplex None one-sided
*Duplex *DuplexNoTumble two-sided-long-edge
*ColorModel print-color-mode
*ColorModel *Gray monochrome
*ColorModel CMYK color
*Staple org.savapage-finishings-staple
*Staple *None 3
*Staple TopLeft 20
*Staple Dual 28
*Punch org.savapage-finishings-punch
*Punch *None 3
*Punch Two 74
*Fold org.savapage-finishings-fold
*Fold *None 3
*Fold Half 93
*Booklet org.savapage-finishings-booklet
*Booklet *None none
*Booklet Left toleft-totop
*Jog org.savapage-finishings-jog-offset
*Jog *Off 3
*Jog On 14
*SPJob/Copy: org.savapage-cover-front-type *no-cover print-none print-front
*SPJob/Copy: org.savapage-cover-front-media-source *tray-2 tray-3
*SPJob/Copy: org.savapage-cover-back-type *no-cover print-none
*SPJob/Copy: org.savapage-cover-back-media-source *tray-2 tray-3
*SPJobTicket/Media: media-color *white yellow
*SPExtra/org.savapage-cover-front-media-source/tray-3: cover-tray-3 \\
    org.savapage-cover-front-type/!no-cover *FrontCover/On *FrontTray/Tray3
*SPExtra/media/iso_a5_148x210mm: a5-from-manual *media-source/manual *InputSlot/Manual
*SPExtra/org.savapage-finishings-staple/28: dual-staple-jog *Jog/On
*SPExtra/org.savapage-finishings-staple/28: dual-staple-a5 *media/iso_a5_148x210mm \\
    media-color/!white
*SPSubst/org.savapage-finishings-booklet/toleft-totop: booklet-v1 *Saddle
*SPSubst/org.savapage-finishings-booklet/toleft-totop: booklet-v2 sides/one-sided *SaddleOne
*SPSubst/sides/one-sided: unmapped-subst media/iso_a5_148x210mm *Simplex
*SPConstraint: no-staple-a5 org.savapage-finishings-staple/!3 media/iso_a5_148x210mm
*SPConstraint: no-fold-punch org.savapage-finishings-fold/!3 org.savapage-finishings-punch/!3
"""

A4 = "iso_a4_210x297mm"
PRINTER: PrinterAttributes = {
    "media-supported": (A4, "iso_a5_148x210mm", "iso_a3_297x420mm"),
    "media-default": A4,
    "media-source-supported": ("auto", "main", "alternate", "manual"),
    "sides-supported": ("one-sided", "two-sided-long-edge"),
    "sides-default": "one-sided",
    "print-color-mode-supported": ("monochrome", "color"),
    "finishings-supported": (3, 20, 74, 14),
    "cover-front-supported": ("cover-type", "media-col"),
    "cover-type-supported": ("no-cover", "print-none", "print-front"),
    "copies-supported": range(1, 1000),
    "orientation-requested-supported": (3, 4, 5, 6),
    "output-bin-supported": ("face-down",),
    "output-bin-default": "face-down",
}


def plain(
    rules: RuleEngine,
    job: JobAttributes,
    *,
    target: Target,
    printer: PrinterAttributes | None = None,
) -> object:
    translation = rules.translate(job, target=target, printer=printer)
    assert translation.refusal is None, translation.refusal
    return {name: value.plain() for name, value in translation.attributes.items()}


# ---------------------------------------------------------------------- options


def test_user_options_from_mappings_job_options_and_printer() -> None:
    options = {o.attribute: o for o in engine(OFFICE).user_options(PRINTER, target="ppd")}
    assert [c.value for c in options["media-source"].choices] == ["auto"]
    assert options["media-source"].default == "auto"
    assert options["media-source"].source == "*InputSlot"
    assert options["media-source"].line == 5
    assert options["org.savapage-finishings-staple"].default == "3"
    assert options["org.savapage-cover-front-type"].source == "*SPJob/Copy:"
    assert options["media-color"].source == "*SPJobTicket/Media:"
    # Not mapped, so straight from the printer, default from the printer.
    assert [c.value for c in options["output-bin"].choices] == ["face-down"]
    assert (options["output-bin"].source, options["output-bin"].line) == ("printer", 0)
    assert [c.value for c in options["org.savapage.int-page-rotate180"].choices] == ["0", "1"]


def test_operator_sees_operator_only_choices() -> None:
    options = {o.attribute: o for o in engine(OFFICE).user_options({}, target="ppd", operator=True)}
    assert [(c.value, c.operator_only) for c in options["media-source"].choices] == [
        ("auto", False),
        ("manual", True),
    ]


def test_option_with_only_operator_choices_is_hidden_from_users() -> None:
    rules = engine("*Slot media-source\n*Slot Manual +manual")
    assert "media-source" not in {o.attribute for o in rules.user_options({}, target="ppd")}
    (option,) = [
        o
        for o in rules.user_options({}, target="ppd", operator=True)
        if o.attribute == "media-source"
    ]
    assert option.default == "manual"


def test_printer_option_without_default_defaults_to_its_first_value() -> None:
    options = {
        o.attribute: o
        for o in engine("").user_options({"sides-supported": ("one-sided",)}, target="ppd")
    }
    assert options["sides"].default == "one-sided"


def test_ipp_target_offers_only_supported_finishings_and_covers() -> None:
    options = {o.attribute: o for o in engine(OFFICE).user_options(PRINTER, target="ipp")}
    assert [c.value for c in options["org.savapage-finishings-staple"].choices] == ["3", "20"]
    assert [c.value for c in options["org.savapage-finishings-punch"].choices] == ["3", "74"]
    assert [c.value for c in options["org.savapage-finishings-fold"].choices] == ["3"]
    assert [c.value for c in options["org.savapage-finishings-booklet"].choices] == ["none"]
    # Neither cover tray is among the printer's media sources.
    assert "org.savapage-cover-front-media-source" not in options
    assert [c.value for c in options["org.savapage-cover-front-type"].choices] == [
        "no-cover",
        "print-none",
        "print-front",
    ]
    assert "org.savapage-cover-back-type" not in options  # no cover-back-supported


def test_ipp_target_offers_a_booklet_imposed_here_when_the_printer_prints_short_edge() -> None:
    # No booklet maker (no 13 in finishings-supported): the pages are imposed here and printed
    # two-sided on the short edge, which this printer can do; PRINTER above cannot.
    short_edge = {**PRINTER, "sides-supported": ("one-sided", "two-sided-short-edge")}
    options = {o.attribute: o for o in engine(OFFICE).user_options(short_edge, target="ipp")}
    assert [c.value for c in options["org.savapage-finishings-booklet"].choices] == [
        "none",
        "toleft-totop",
    ]
    # A printer that does not say which sides it prints is not refused the booklet either.
    silent = {k: v for k, v in PRINTER.items() if k != "sides-supported"}
    options = {o.attribute: o for o in engine(OFFICE).user_options(silent, target="ipp")}
    assert "toleft-totop" in [c.value for c in options["org.savapage-finishings-booklet"].choices]


def test_capabilities_from_mappings_and_printer() -> None:
    caps = engine(OFFICE).capabilities({})
    assert (caps.duplex, caps.color, caps.manual_tray) == (True, True, True)
    bare = engine("").capabilities({})
    assert (bare.duplex, bare.color, bare.manual_tray) == (False, False, False)
    printer = engine("").capabilities(
        {"sides-supported": ("two-sided-short-edge",), "print-color-mode-supported": "auto",
         "media-source-supported": ("manual-feed",)}
    )  # fmt: skip
    assert (printer.duplex, printer.color, printer.manual_tray) == (True, True, True)


# ---------------------------------------------------------------------- constraints


def test_constraint_violation_names_both_options() -> None:
    (violation,) = engine(OFFICE).violations(
        {"org.savapage-finishings-staple": "20", "media": "iso_a5_148x210mm"}
    )
    assert violation.constraint.mnemonic == "no-staple-a5"
    assert (violation.first_value, violation.second_value) == ("20", "iso_a5_148x210mm")
    assert violation.message == (
        "org.savapage-finishings-staple=20 cannot be combined with "
        "media=iso_a5_148x210mm (no-staple-a5, line 44)"
    )


def test_constraint_needs_both_attributes_present() -> None:
    rules = engine(OFFICE)
    assert rules.violations({"org.savapage-finishings-fold": "93"}) == ()
    assert (
        rules.violations(
            {"org.savapage-finishings-fold": "93", "org.savapage-finishings-punch": "3"}
        )
        == ()
    )
    assert (
        len(
            rules.violations(
                {"org.savapage-finishings-fold": "93", "org.savapage-finishings-punch": "74"}
            )
        )
        == 1
    )


def test_constraint_with_two_negations_is_always_checked() -> None:
    rules = engine("*SPConstraint: c a/!x b/!y")
    assert rules.violations({"a": "1", "b": "2"})[0].message.startswith(
        "a=1 cannot be combined with b=2"
    )
    assert rules.violations({"a": "x", "b": "2"}) == ()


@pytest.mark.parametrize(
    ("other", "mnemonic"),
    [
        ({"number-up": "1"}, "booklet-number-up-1"),
        ({"number-up": "4"}, "booklet-number-up-4"),
        ({"number-up": "6"}, "booklet-number-up-6"),
        ({"number-up": "9"}, "booklet-number-up-9"),
        # Was missing: a 16-up booklet was charged one side and printed two pages a side.
        ({"number-up": "16"}, "booklet-number-up-16"),
        ({"sides": "one-sided"}, "booklet-sides-one-sided"),
        ({"org.savapage.int-page-rotate180": "1"}, "booklet-org.savapage.int-page-rotate180-1"),
    ],
)
def test_builtin_booklet_constraints_switchable(other: dict[str, str], mnemonic: str) -> None:
    job = {"org.savapage-finishings-booklet": "toleft-totop", **other}
    (violation,) = engine(OFFICE).violations(job)
    assert violation.constraint.mnemonic == mnemonic
    assert "built-in booklet constraint" in violation.message
    assert engine(OFFICE, booklet_constraints=False).violations(job) == ()
    assert engine(OFFICE).violations({**job, "org.savapage-finishings-booklet": "none"}) == ()


def test_booklet_with_two_up_duplex_is_allowed() -> None:
    job = {
        "org.savapage-finishings-booklet": "toleft-totop",
        "number-up": "2",
        "sides": "two-sided-long-edge",
    }
    assert engine(OFFICE).violations(job) == ()
    assert len(booklet_constraints()) == 7


# ---------------------------------------------------------------------- covers


def test_cover_media_source_is_dropped_without_a_cover() -> None:
    assert effective_attributes({"org.savapage-cover-front-media-source": "tray-3"}) == {}
    assert effective_attributes(
        {"org.savapage-cover-back-type": "no-cover", "org.savapage-cover-back-media-source": "x"}
    ) == {"org.savapage-cover-back-type": "no-cover"}
    kept = {
        "org.savapage-cover-front-type": "print-none",
        "org.savapage-cover-front-media-source": "x",
    }
    assert effective_attributes(kept) == kept


# ---------------------------------------------------------------------- PPD target


def test_ppd_target_maps_options_and_sends_mapped_media_as_ppd_options() -> None:
    job = {
        "media": A4,
        "media-source": "auto",
        "sides": "two-sided-long-edge",
        "org.savapage-finishings-staple": "20",
        "copies": "3",
        "job-name": "report.pdf",
        "media-color": "white",
        "org.savapage.int-page-rotate180": "0",
    }
    translation = engine(OFFICE).translate(job, target="ppd")
    assert {n: v.plain() for n, v in translation.attributes.items()} == {
        "PageSize": "A4",
        "InputSlot": "Auto",
        "Duplex": "DuplexNoTumble",
        "Staple": "TopLeft",
        "copies": 3,
        "job-name": "report.pdf",
    }
    assert translation.attributes["Staple"] == OutValue(Syntax.TEXT, ("TopLeft",))
    assert translation.attributes["copies"].syntax is Syntax.INTEGER
    assert translation.attributes["job-name"].syntax is Syntax.NAME
    assert set(translation.withheld) == {"media-color", "org.savapage.int-page-rotate180"}
    assert [(f.kind, f.name, f.line) for f in translation.fired] == [
        ("mapping", "*PageSize", 2),
        ("mapping", "*InputSlot", 5),
        ("mapping", "*Duplex", 8),
        ("mapping", "*Staple", 14),
    ]


def test_ppd_target_sends_a_mapped_tray_as_its_ppd_option_not_in_media_col() -> None:
    rules = engine("*InputSlot media-source\n*InputSlot *Auto auto\n*InputSlot Tray3 tray-3")
    assert plain(rules, {"media-source": "tray-3"}, target="ppd") == {"InputSlot": "Tray3"}


def test_ppd_target_sends_only_the_substituted_choice_of_a_mapped_tray() -> None:
    rules = engine(
        "*InputSlot media-source\n*InputSlot *Auto auto\n*InputSlot Tray3 tray-3\n"
        "*SPSubst/media-source/tray-3: heavy-tray *Tray3Heavy"
    )
    assert plain(rules, {"media-source": "tray-3"}, target="ppd") == {"InputSlot": "Tray3Heavy"}


def test_ppd_target_keeps_unmapped_media_in_media_col() -> None:
    rules = engine("*InputSlot media-source\n*InputSlot *Auto auto")
    job = {"media-source": "auto", "media-type": "stationery", "media": A4}
    assert plain(rules, job, target="ppd") == {
        "InputSlot": "Auto",
        "media-col": {"media-type": "stationery", "media-size-name": A4},
    }


def test_ppd_target_refuses_a_media_size_the_mapping_does_not_have() -> None:
    translation = engine(OFFICE).translate({"media": "na_letter_8.5x11in"}, target="ppd")
    assert translation.refusal is not None
    assert translation.refusal.message == (
        "media=na_letter_8.5x11in is not one of the choices of *PageSize (line 2)"
    )


def test_ppd_target_refuses_a_value_the_mapping_does_not_have() -> None:
    translation = engine(OFFICE).translate({"org.savapage-finishings-staple": "22"}, target="ppd")
    assert translation.refusal is not None
    assert translation.refusal.option == "org.savapage-finishings-staple"
    assert "not one of the choices of *Staple" in translation.refusal.message
    assert dict(translation.attributes) == {}


def test_spextra_with_negation_fires_when_the_attribute_is_absent() -> None:
    # media-color is absent: `media-color/!white` holds for SPExtra (spec §3).
    job = {"org.savapage-finishings-staple": "28"}
    assert plain(engine(OFFICE), job, target="ppd") == {
        "Staple": "Dual",
        "Jog": "On",
        "PageSize": "A5",
    }
    with_white = {**job, "media-color": "white"}
    assert plain(engine(OFFICE), with_white, target="ppd") == {"Staple": "Dual", "Jog": "On"}


def test_spextra_replaces_a_mapped_media_source_with_its_ppd_choice() -> None:
    job = {"media": "iso_a5_148x210mm", "media-source": "auto"}
    assert plain(engine(OFFICE), job, target="ppd") == {"PageSize": "A5", "InputSlot": "Manual"}
    translation = engine(OFFICE).translate(job, target="ppd")
    assert [f.effect for f in translation.fired if f.kind == "SPExtra"] == [
        "InputSlot=Manual (media-source=manual)",
        "InputSlot=Manual (replaced)",
    ]


def test_spextra_replaces_an_unmapped_media_source_inside_media_col() -> None:
    rules = engine("*SPExtra/media/x: from-manual *media-source/manual")
    translation = rules.translate({"media": "x"}, target="ppd")
    assert translation.attributes["media-col"].plain() == {
        "media-size-name": "x",
        "media-source": "manual",
    }
    assert translation.fired[0].effect == "media-col media-source=manual"


def test_spextra_setting_a_mapped_attribute_to_an_unmapped_value_refuses() -> None:
    rules = engine(
        "*InputSlot media-source\n*InputSlot *Auto auto\n"
        "*SPExtra/media/x: from-tray-9 *media-source/tray-9"
    )
    translation = rules.translate({"media": "x"}, target="ppd")
    assert translation.refusal is not None
    assert translation.refusal.message == (
        "SPExtra from-tray-9 (line 3) sets media-source=tray-9, "
        "which is not one of the choices of *InputSlot (line 1)"
    )


def test_spextra_replacing_an_existing_attribute_keeps_its_syntax() -> None:
    rules = engine("*SPExtra/media/x: more-copies *copies/2")
    translation = rules.translate({"media": "x", "copies": "1"}, target="ppd")
    assert translation.attributes["copies"] == OutValue(Syntax.INTEGER, (2,))
    assert translation.fired[0].effect == "copies=2 (replaced)"


def test_cover_spextra_fires_only_with_a_cover() -> None:
    rules = engine(OFFICE)
    with_cover = {
        "org.savapage-cover-front-type": "print-none",
        "org.savapage-cover-front-media-source": "tray-3",
    }
    assert plain(rules, with_cover, target="ppd") == {"FrontCover": "On", "FrontTray": "Tray3"}
    no_cover = {
        "org.savapage-cover-front-type": "no-cover",
        "org.savapage-cover-front-media-source": "tray-3",
    }
    assert plain(rules, no_cover, target="ppd") == {}


def test_last_firing_spsubst_wins() -> None:
    rules = engine(OFFICE)
    booklet = {"org.savapage-finishings-booklet": "toleft-totop"}
    assert plain(rules, booklet, target="ppd") == {"Booklet": "Saddle"}
    assert plain(rules, {**booklet, "sides": "one-sided"}, target="ppd") == {
        "Booklet": "SaddleOne",
        "Duplex": "None",
    }


def test_spsubst_for_an_unmapped_attribute_uses_its_name() -> None:
    rules = engine("*SPSubst/sides/one-sided: s *Simplex")
    assert plain(rules, {"sides": "one-sided"}, target="ppd") == {"sides": "Simplex"}


def test_ppd_nup_uses_the_files_landscape_orientation() -> None:
    job = {"number-up": "2"}
    plus = plain(engine(""), job, target="ppd")
    minus = plain(engine("*LandscapeOrientation: Minus90"), job, target="ppd")
    assert plus == {"number-up": 2, "orientation-requested": 5, "number-up-layout": "rlbt"}
    assert minus == {"number-up": 2, "orientation-requested": 4}


def test_custom_nup_row_overrides_and_is_explained() -> None:
    rules = engine(
        "*SPRule/number-up: my-2up pdf-orientation/portrait pdf-rotation/- "
        "pdf-content-rotation/- user-rotate/- number-up/2 *orientation-requested/3 "
        "*number-up-layout/tblr"
    )
    translation = rules.translate({"number-up": "2"}, target="ppd", geometry=PageGeometry())
    assert translation.attributes["orientation-requested"].plain() == 3
    assert translation.attributes["number-up-layout"].plain() == "tblr"
    assert translation.fired[-1].name == "my-2up"
    assert translation.fired[-1].line == 1
    assert translation.nup is not None
    assert translation.nup.rule is not None


def test_bad_number_up_is_refused() -> None:
    translation = engine("").translate({"number-up": "two"}, target="ppd")
    assert translation.refusal is not None
    assert translation.refusal.option == "number-up"


def test_non_numeric_copies_is_refused() -> None:
    translation = engine("").translate({"copies": "many"}, target="ppd")
    assert translation.refusal is not None
    assert translation.refusal.message == "copies needs a number, not many"


# ---------------------------------------------------------------------- IPP target


def test_ipp_target_sends_standard_finishings_covers_and_media_col() -> None:
    job = {
        "media": A4,
        "media-source": "main",
        "sides": "two-sided-long-edge",
        "copies": "2",
        "org.savapage-finishings-staple": "20",
        "org.savapage-finishings-punch": "74",
        "org.savapage-finishings-jog-offset": "14",
        "org.savapage-finishings-fold": "3",
        "org.savapage-cover-front-type": "print-front",
        "org.savapage-cover-front-media-source": "alternate",
    }
    translation = engine(OFFICE).translate(job, target="ipp", printer=PRINTER)
    assert translation.refusal is None
    assert {n: v.plain() for n, v in translation.attributes.items()} == {
        "sides": "two-sided-long-edge",
        "copies": 2,
        "cover-front": {"cover-type": "print-front", "media-col": {"media-source": "alternate"}},
        "finishings": [20, 74, 14],
        "media-col": {"media-size-name": A4, "media-source": "main"},
    }
    assert translation.attributes["finishings"].syntax is Syntax.ENUM
    assert "org.savapage-cover-front-media-source" in translation.withheld


def test_ipp_booklet_becomes_booklet_maker() -> None:
    printer: PrinterAttributes = {**PRINTER, "finishings-supported": (3, 13)}
    job = {"org.savapage-finishings-booklet": "toleft-totop"}
    assert plain(engine(OFFICE), job, target="ipp", printer=printer) == {"finishings": 13}


def test_ipp_finishings_col_when_only_templates_are_supported() -> None:
    printer: PrinterAttributes = {
        "finishings-col-supported": ("finishing-template",),
        "finishing-template-supported": ("staple-dual-left", "fold-half"),
        "finishings-supported": (3, 93),
    }
    job = {"org.savapage-finishings-staple": "28", "org.savapage-finishings-fold": "93"}
    translation = engine(OFFICE).translate(job, target="ipp", printer=printer)
    assert translation.attributes["finishings-col"].plain() == [
        {"finishing-template": "staple-dual-left"},
        {"finishing-template": "fold-half"},
    ]
    assert "finishings" not in translation.attributes


@pytest.mark.parametrize(
    ("job", "option", "message"),
    [
        (
            {"org.savapage-finishings-staple": "28"},
            "org.savapage-finishings-staple",
            "the printer does not support finishings 28 (staple-dual-left)",
        ),
        (
            {"org.savapage-cover-back-type": "print-none"},
            "org.savapage-cover-back-type",
            "the printer has no back cover support (cover-back-supported)",
        ),
        (
            {"org.savapage-cover-front-type": "print-both"},
            "org.savapage-cover-front-type",
            "the printer does not list cover-type print-both",
        ),
        (
            {
                "org.savapage-cover-front-type": "print-none",
                "org.savapage-cover-front-media-source": "tray-9",
            },
            "org.savapage-cover-front-type",
            "the printer does not list media-source tray-9 for the front cover",
        ),
        (
            {"media": "na_letter_8.5x11in"},
            "media",
            "the printer does not list media na_letter_8.5x11in as supported",
        ),
        (
            {"sides": "two-sided-short-edge"},
            "sides",
            "the printer does not list sides two-sided-short-edge as supported",
        ),
        (
            {"print-scaling": "fill"},
            "print-scaling",
            "the printer does not list print-scaling fill as supported",
        ),
    ],
)
def test_ipp_refusals_name_the_missing_option(
    job: dict[str, str], option: str, message: str
) -> None:
    translation = engine(OFFICE).translate(job, target="ipp", printer=PRINTER)
    assert translation.refusal is not None
    assert (translation.refusal.option, translation.refusal.message) == (option, message)


def test_ipp_leaves_out_a_default_the_printer_does_not_list() -> None:
    printer: PrinterAttributes = {"print-scaling-default": "auto"}
    assert plain(engine(""), {"print-scaling": "auto"}, target="ipp", printer=printer) == {}


def test_ipp_sends_only_supported_nup_outputs_and_ignores_ppd_extras() -> None:
    rules = engine("*SPExtra/number-up/2: two-up *Vendor/On *sides/two-sided-long-edge")
    printer: PrinterAttributes = {
        "number-up-supported": range(1, 17),
        "orientation-requested-supported": (3, 4, 5, 6),
        "sides-supported": ("two-sided-long-edge",),
    }
    translation = rules.translate({"number-up": "2"}, target="ipp", printer=printer)
    assert {n: v.plain() for n, v in translation.attributes.items()} == {
        "number-up": 2,
        "sides": "two-sided-long-edge",
        "orientation-requested": 5,
    }
    effects = [f.effect for f in translation.fired]
    assert "Vendor=On not sent: a PPD option, and this printer has no PPD" in effects


def test_ipp_landscape_orientation_of_the_file_does_not_apply() -> None:
    printer: PrinterAttributes = {"orientation-requested-supported": (3, 4, 5, 6)}
    rules = engine("*LandscapeOrientation: Minus90")
    translation = rules.translate(
        {}, target="ipp", printer=printer, geometry=PageGeometry("landscape")
    )
    # RFC 8011's landscape is +90°: the Plus90 row, whatever the PPD-oriented file says.
    assert translation.attributes["orientation-requested"].plain() == 5


def test_engine_without_rules_passes_standard_attributes() -> None:
    assert plain(RuleEngine(), {"copies": "1"}, target="ppd") == {"copies": 1}


def test_ipp_no_cover_sends_no_cover_collection() -> None:
    job = {"org.savapage-cover-front-type": "no-cover"}
    translation = engine(OFFICE).translate(job, target="ipp", printer={})
    assert translation.refusal is None
    assert dict(translation.attributes) == {}
    assert translation.withheld == ("org.savapage-cover-front-type",)


def test_ipp_copies_outside_the_supported_range_are_refused() -> None:
    printer: PrinterAttributes = {"copies-supported": (range(1, 10), range(20, 30))}
    assert plain(engine(""), {"copies": "25"}, target="ipp", printer=printer) == {"copies": 25}
    translation = engine("").translate({"copies": "15"}, target="ipp", printer=printer)
    assert translation.refusal is not None
    assert translation.refusal.message == "the printer does not list copies 15 as supported"


@pytest.mark.parametrize("number_up", ["0", "²", "101", "99999999999999999999", "-1", "two"])
def test_a_number_up_that_is_no_usable_number_is_refused_on_both_targets(number_up: str) -> None:
    for target in ("ppd", "ipp"):
        translation = engine("").translate(
            {"number-up": number_up}, target=target, printer={"number-up-supported": range(0, 5)}
        )
        assert translation.refusal is not None
        assert translation.refusal.option == "number-up"


def test_integers_with_digits_int_refuses_are_refused_not_a_crash() -> None:
    # "²" passes str.isdigit(); int() refuses it.
    translation = engine("").translate({"copies": "²"}, target="ipp", printer={})
    assert translation.refusal is not None
    assert translation.refusal.option == "copies"
    printer: PrinterAttributes = {"copies-supported": (range(1, 10),)}
    refused = engine("").translate({"copies": "²"}, target="ipp", printer=printer)
    assert refused.refusal is not None
    assert finishing_number("org.savapage-finishings-staple", "²") is None


def test_ipp_nup_layout_sent_when_supported() -> None:
    printer: PrinterAttributes = {
        "number-up-supported": range(1, 17),
        "number-up-layout-supported": ("lrtb", "rlbt"),
        "orientation-requested-supported": (3, 4),
    }
    assert plain(engine(""), {"number-up": "2"}, target="ipp", printer=printer) == {
        "number-up": 2,
        "number-up-layout": "rlbt",
    }


def test_ipp_target_restricts_mapped_standard_choices_to_what_the_printer_lists() -> None:
    rules = engine("*Tray media-source\n*Tray *A main\n*Tray B tray-9\n*Tray C alternate")
    options = {o.attribute: o for o in rules.user_options(PRINTER, target="ipp")}
    assert [c.value for c in options["media-source"].choices] == ["main", "alternate"]
    # Without a list from the printer nothing is removed; the PPD target never filters.
    options = {o.attribute: o for o in rules.user_options({}, target="ipp")}
    assert len(options["media-source"].choices) == 3
    options = {o.attribute: o for o in rules.user_options(PRINTER, target="ppd")}
    assert len(options["media-source"].choices) == 3


def test_a_rule_file_may_declare_the_rotate_marker_itself() -> None:
    declared = engine("*SPJob/Copy: org.savapage.int-page-rotate180 *0 1\n")
    (rotate,) = [
        o for o in declared.user_options({}, target="ipp") if o.attribute.endswith("rotate180")
    ]
    assert rotate.source == "*SPJob/Copy:"
    assert rotate.line == 1


def test_media_the_printer_uses_by_default_is_left_to_the_printer() -> None:
    printer = {"media-default": "iso_a4_210x297mm"}
    translation = RuleEngine().translate(
        {"media": "iso_a4_210x297mm"}, target="ipp", printer=printer
    )
    assert translation.refusal is None
    assert "media-col" not in translation.attributes
