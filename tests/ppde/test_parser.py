"""Spec §2–§3: every directive, its word count, and the located diagnostics."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from printmgmt.ppde import MAX_FILE_BYTES, Severity, parse, parse_bytes
from printmgmt.ppde.model import CostScope, LandscapeOrientation, OptionScope

from .helpers import load, messages, only_error

# ---------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("*LandscapeOrientation: Plus90", LandscapeOrientation.PLUS90),
        ("*LandscapeOrientation: Minus90", LandscapeOrientation.MINUS90),
        ("*landscapeORIENTATION: minus90", LandscapeOrientation.MINUS90),
    ],
)
def test_landscape_orientation(line: str, expected: LandscapeOrientation) -> None:
    assert load(line).landscape_orientation is expected


def test_landscape_orientation_defaults_to_plus90() -> None:
    assert load("").landscape_orientation is LandscapeOrientation.PLUS90


def test_local_booklet_and_raw_mime_type() -> None:
    rules = load("*SPLocalBooklet: TRUE\n*sprawprintmimetype: application/vnd.hp-PCL")
    assert rules.local_booklet is True
    assert rules.raw_print_mime_type == "application/vnd.hp-PCL"
    assert load("*SPLocalBooklet: False").local_booklet is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "*LandscapeOrientation:",
            (1, 1, "*LandscapeOrientation:", "*LandscapeOrientation: takes 2 words, found 1"),
        ),
        (
            "*SPLocalBooklet: True False",
            (1, 23, "False", "*SPLocalBooklet: takes 2 words, found 3"),
        ),
        ("*SPRawPrintMimeType: a/b c", (1, 26, "c", "*SPRawPrintMimeType: takes 2 words, found 3")),
    ],
)
def test_settings_take_exactly_two_words(text: str, expected: tuple[int, int, str, str]) -> None:
    assert only_error(text) == expected


# ---------------------------------------------------------------------- mappings


def test_mapping_with_default_operator_only_and_multi_word_value() -> None:
    rules = load(
        "*Resolution printer-resolution\n"
        "*Resolution 300dpi 300x300dpi\n"
        "*Resolution *600dpi 600x600dpi\n"
        "*Resolution 1200dpi +1200x1200 dpi  \n"
    )
    (mapping,) = rules.mappings
    assert (mapping.ppd_option, mapping.attribute, mapping.line) == (
        "Resolution",
        "printer-resolution",
        1,
    )
    assert [
        (c.ppd_choice, c.value, c.default, c.operator_only, c.line) for c in mapping.choices
    ] == [
        ("300dpi", "300x300dpi", False, False, 2),
        ("600dpi", "600x600dpi", True, False, 3),
        ("1200dpi", "1200x1200 dpi", False, True, 4),
    ]
    assert mapping.default is not None
    assert mapping.default.value == "600x600dpi"
    assert mapping.ppd_choice_for("1200x1200 dpi") == "1200dpi"
    assert mapping.ppd_choice_for("75x75dpi") is None


def test_default_without_star_is_first_choice_not_operator_only() -> None:
    rules = load("*Slot media-source\n*Slot Manual +manual\n*Slot Upper tray-1\n")
    default = rules.mappings[0].default
    assert default is not None
    assert default.value == "tray-1"


def test_mapping_with_only_operator_choices_has_no_default() -> None:
    assert load("*Slot media-source\n*Slot Manual +manual").mappings[0].default is None


def test_choices_may_come_before_their_mapping_line() -> None:
    rules = load("*Slot Upper tray-1\n*Slot media-source\n")
    assert [c.value for c in rules.mappings[0].choices] == ["tray-1"]


def test_single_word_lines_are_constants_and_ignored() -> None:
    rules = load("*OpenUI\nfoo\n")
    assert rules.mappings == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*Slot colour", (1, 7, "colour", "cannot map a PPD option to 'colour'")),
        ("Slot media-source", (1, 1, "Slot", "'Slot' is not a PPD option")),
        (
            "*Slot media-source\n*Tray media-source",
            (2, 7, "media-source", "'media-source' is already mapped from *Slot at line 1"),
        ),
        (
            "*Slot media-source\n*Slot media",
            (2, 1, "*Slot", "*Slot is mapped twice (first at line 1)"),
        ),
        ("*Slot Upper tray-1", (1, 1, "*Slot", "choice for *Slot, which is not mapped")),
        (
            "*Slot media-source\n*Slot A x\n*Slot A y",
            (3, 7, "A", "choice 'A' of *Slot is given twice (line 2)"),
        ),
        (
            "*Slot media-source\n*Slot *A x\n*Slot *B y",
            (3, 7, "*B", "*Slot has a second default choice (first at line 2)"),
        ),
        ("*Slot media-source\n*Slot ** x", (2, 7, "**", "'**' is not a PPD choice")),
        ("*Slot media-source\n*Slot A ++x", (2, 9, "++x", "'++x' is not an IPP value")),
        (
            "*St org.savapage-finishings-staple\n*St A 36",
            (2, 7, "36", "'36' is not a value of org.savapage-finishings-staple"),
        ),
        (
            "*Fo org.savapage-finishings-fold\n*Fo A half",
            (2, 7, "half", "'half' is not a value of org.savapage-finishings-fold"),
        ),
        (
            "*Jog org.savapage-finishings-jog-offset\n*Jog A 15",
            (2, 8, "15", "'15' is not a value of org.savapage-finishings-jog-offset"),
        ),
        # "²" passes str.isdigit(), which int() refuses; a huge number-up stalls layout work.
        (
            "*St org.savapage-finishings-staple\n*St A ²",
            (2, 7, "²", "'²' is not a value of org.savapage-finishings-staple"),
        ),
        ("*NUp number-up\n*NUp Sup ²", (2, 10, "²", "'²' is not a number-up")),
        (
            "*NUp number-up\n*NUp Big 999999999999",
            (2, 10, "999999999999", "'999999999999' is not a number-up"),
        ),
        ("*NUp number-up\n*NUp Two two", (2, 10, "two", "'two' is not a number-up")),
        ("*SPFoo a/b c", (1, 1, "*SPFoo", "choice for *SPFoo, which is not mapped")),
        ("*SP/Foo: a b", (1, 1, "*SP/Foo:", "unknown directive '*SP/Foo:'")),
        ("*SPFoo: a", (1, 1, "*SPFoo:", "unknown directive '*SPFoo:'")),
    ],
)
def test_mapping_errors(text: str, expected: tuple[int, int, str, str]) -> None:
    assert only_error(text) == expected


def test_mapping_error_hint_suspects_a_misspelt_directive() -> None:
    (diagnostic,) = parse("*SPExtro org.foo", filename="f").diagnostics
    assert "misspelt directive" in diagnostic.hint
    (diagnostic,) = parse("*SPExtro a b", filename="f").diagnostics
    assert "misspelt directive" in diagnostic.hint


def test_choices_of_a_bad_mapping_line_are_not_reported_again() -> None:
    result = parse("*St org.foo\n*St A 20\n*St B 21\n", filename="f")
    assert messages(result) == ["1:5:error:cannot map a PPD option to 'org.foo'"]


def test_booklet_mapping_accepts_keywords() -> None:
    rules = load("*Bk org.savapage-finishings-booklet\n*Bk *None none\n*Bk L toleft-totop")
    assert [c.value for c in rules.mappings[0].choices] == ["none", "toleft-totop"]


# ---------------------------------------------------------------------- job options


def test_job_copy_and_ticket_options() -> None:
    rules = load(
        "*SPJob/Copy: org.savapage-cover-front-type *no-cover print-front +print-both\n"
        "*SPJobTicket/Media: media-color *white yellow\n"
        "*SPJobTicket/Sheet: org.x-insert none tabs\n"
        "*SPJobTicket/Copy: org.savapage-cover-type *no-cover int.printfront\n"
        "*SPJobTicket/Set: org.savapage-job-sheets *none job-start-sheet\n"
    )
    assert [(o.scope, o.attribute, o.line) for o in rules.job_options] == [
        (OptionScope.JOB_COPY, "org.savapage-cover-front-type", 1),
        (OptionScope.TICKET_MEDIA, "media-color", 2),
        (OptionScope.TICKET_SHEET, "org.x-insert", 3),
        (OptionScope.TICKET_COPY, "org.savapage-cover-type", 4),
        (OptionScope.TICKET_SET, "org.savapage-job-sheets", 5),
    ]
    front = rules.job_options[0]
    assert [(c.value, c.default, c.operator_only) for c in front.choices] == [
        ("no-cover", True, False),
        ("print-front", False, False),
        ("print-both", False, True),
    ]
    assert rules.job_option_for("media-color") is rules.job_options[1]
    assert rules.job_option_for("sides") is None
    assert rules.job_options[2].default is not None
    assert rules.job_options[2].default.value == "none"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*SPJob/Copy: a/b x", (1, 14, "a/b", "'a/b' is not an attribute name")),
        ("*SPJob/Copy: x a a", (1, 18, "a", "choice 'a' is given twice")),
        ("*SPJob/Copy: x *a *b", (1, 19, "*b", "a second default choice")),
        ("*SPJob/Copy: x *+a", (1, 16, "*+a", "'*+a' is not a choice")),
        ("*SPJob/Copy: x a\n*SPJob/Copy: x b", (2, 14, "x", "options for 'x' are declared twice")),
        ("*SPJob/Copy/Cost: 1", (1, 19, "1", "*SPJob/Copy/Cost: needs at least 3 words, found 2")),
        ("*SPJobTicket/Set/Cost: 1 x", (1, 26, "x", "a cost rule needs at least one condition")),
        ("*SPJobTicket/Set/Cost: 1 x a/", (1, 28, "a/", "incomplete condition 'a/'")),
        ("*SPJobTicket/Set/Cost: 1 x /b", (1, 28, "/b", "incomplete condition '/b'")),
        ("*SPJobTicket/Set/Cost: 1.2.3 x a/b", (1, 24, "1.2.3", "'1.2.3' is not a decimal number")),
        ("*SPJobTicket/Set/Cost: NaN x a/b", (1, 24, "NaN", "'NaN' is not a decimal number")),
        ("*SPJobTicket/Set/Cost: ٠.٥ x a/b", (1, 24, "٠.٥", "'٠.٥' is not a decimal number")),
        (
            "*SPJobTicket/Set/Cost: 100000000 x a/b",
            (1, 24, "100000000", "price '100000000' is too large"),
        ),
        (
            "*SPJobTicket/Set/Cost: -10000000000000000000000000000 x a/b",
            (
                1,
                24,
                "-10000000000000000000000000000",
                "price '-10000000000000000000000000000' is too large",
            ),
        ),
        ("*SPJobTicket/Set/Cost: 1 *x a/b", (1, 26, "*x", "expected a mnemonic, found '*x'")),
        ("*SPJobTicketX: a b", (1, 1, "*SPJobTicketX:", "unknown directive '*SPJobTicketX:'")),
    ],
)
def test_job_option_and_cost_errors(text: str, expected: tuple[int, int, str, str]) -> None:
    assert only_error(text) == expected


# ---------------------------------------------------------------------- cost rules


def test_cost_rules_of_every_scope_keep_order_price_and_conditions() -> None:
    rules = load(
        "*SPJobTicket/Media/Cost: 0.05 m media/a sides/!one-sided\n"
        "*SPJobTicket/Sheet/Cost: -.5 s media/a\n"
        "*SPJob/Copy/Cost: +1 c org.savapage-finishings-staple/20\n"
        "*SPJobTicket/Copy/Cost: 2. t media/a\n"
        "*SPJobTicket/Set/Cost: 0 z media/a\n"
    )
    assert [(r.scope, r.price, r.mnemonic, r.line) for r in rules.cost_rules] == [
        (CostScope.MEDIA, Decimal("0.05"), "m", 1),
        (CostScope.SHEET, Decimal("-0.5"), "s", 2),
        (CostScope.JOB_COPY, Decimal("1"), "c", 3),
        (CostScope.TICKET_COPY, Decimal("2"), "t", 4),
        (CostScope.SET, Decimal("0"), "z", 5),
    ]
    media = rules.cost_rules[0]
    assert [str(c) for c in media.conditions] == ["media/a", "sides/!one-sided"]
    assert all(isinstance(r.price, Decimal) for r in rules.cost_rules)


def test_a_cost_rule_repeating_the_conditions_of_an_earlier_one_is_named() -> None:
    # A price changed by adding a line instead of editing the old one: a copy rule is then
    # charged on top of the old one (0.09 a staple), a media rule never applies.
    result = parse(
        "*SPJob/Copy/Cost: 0.04 staple org.savapage-finishings-staple/20\n"
        "*SPJobTicket/Media/Cost: 0.10 a4 media/a4 sides/one-sided\n"
        "*SPJobTicket/Media/Cost: 0.12 a4-new sides/one-sided media/a4\n"
        "*SPJobTicket/Copy/Cost: 0.05 staple-new org.savapage-finishings-staple/20\n"
        "*SPJobTicket/Sheet/Cost: 0.01 a4 media/a4\n"
        "*SPJobTicket/Set/Cost: 0.01 a4 media/a4\n"
        "*SPJobTicket/Set/Cost: 0.01 not-a4 media/!a4\n",
        filename="f",
    )
    assert result.rules is not None
    assert [(d.line, d.column, d.severity, d.message, d.hint) for d in result.diagnostics] == [
        (
            3,
            1,
            Severity.WARNING,
            "a media cost rule with the same conditions as line 2: it never applies",
            "the first media cost rule that matches is charged",
        ),
        (
            4,
            1,
            Severity.WARNING,
            "a copy cost rule with the same conditions as line 1: both are charged",
            "copy cost rules add up; to change the price, change line 1 instead",
        ),
    ]


# ---------------------------------------------------------------------- SPExtra / SPSubst


def test_extra_with_conditions_and_dependents_in_any_order() -> None:
    rules = load("*SPExtra/media-source/tray-3: x *A/1 sides/one-sided *B/2 media/!a4")
    (extra,) = rules.extras
    assert (extra.attribute, extra.value, extra.mnemonic, extra.line) == (
        "media-source",
        "tray-3",
        "x",
        1,
    )
    assert [str(c) for c in extra.conditions] == ["sides/one-sided", "media/!a4"]
    assert [(d.name, d.value) for d in extra.dependents] == [("A", "1"), ("B", "2")]


def test_extra_value_may_contain_a_slash() -> None:
    (extra,) = load("*SPExtra/media/a/b: x *A/1").extras
    assert (extra.attribute, extra.value) == ("media", "a/b")


def test_subst() -> None:
    (subst,) = load("*SPSubst/media/a4: x sides/one-sided *A4Plain").substs
    assert (subst.attribute, subst.value, subst.ppd_value) == ("media", "a4", "A4Plain")
    assert [str(c) for c in subst.conditions] == ["sides/one-sided"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "*SPExtra/media: x *A/1",
            (1, 1, "*SPExtra/media:", "malformed directive '*SPExtra/media:'"),
        ),
        (
            "*SPExtra/media/a4 x *A/1",
            (1, 1, "*SPExtra/media/a4", "malformed directive '*SPExtra/media/a4'"),
        ),
        (
            "*SPExtra/media/a4:",
            (1, 1, "*SPExtra/media/a4:", "*SPExtra/media/a4: needs at least 3 words, found 1"),
        ),
        ("*SPExtra/media/a4: x *A/", (1, 22, "*A/", "malformed option '*A/'")),
        ("*SPExtra/media/a4: x */1", (1, 22, "*/1", "malformed option '*/1'")),
        ("*SPExtra/media/a4: x/y *A/1", (1, 20, "x/y", "expected a mnemonic, found 'x/y'")),
        (
            "*SPSubst/media/a4: x sides/one-sided",
            (1, 22, "sides/one-sided", "an SPSubst rule needs exactly one *ppd_value, found 0"),
        ),
        ("*SPSubst/media/a4: x *", (1, 22, "*", "'*' is not a PPD choice")),
    ],
)
def test_extra_and_subst_errors(text: str, expected: tuple[int, int, str, str]) -> None:
    assert only_error(text) == expected


# ---------------------------------------------------------------------- SPConstraint


def test_constraint() -> None:
    (constraint,) = load("*SPConstraint: c1 media/a4 sides/!one-sided").constraints
    assert constraint.mnemonic == "c1"
    assert (str(constraint.first), str(constraint.second), constraint.line) == (
        "media/a4",
        "sides/!one-sided",
        1,
    )


def test_spconstraint_is_case_sensitive() -> None:
    # "*spconstraint:" is not the directive; as a 4-word line it is a choice mapping.
    assert only_error("*spconstraint: c a/1 b/2")[3] == "unknown directive '*spconstraint:'"


# ---------------------------------------------------------------------- SPRule/number-up


def test_nup_rule() -> None:
    (rule,) = load(
        "*SPRule/number-up: r1 PDF-Orientation/Landscape pdf-rotation/90 "
        "pdf-content-rotation/- user-rotate/0 number-up/2 *orientation-requested/5 "
        "*number-up-layout/TBRL *org.savapage-landscape"
    ).nup_rules
    assert rule.mnemonic == "r1"
    assert rule.inputs == (
        ("pdf-orientation", "landscape"),
        ("pdf-rotation", "90"),
        ("pdf-content-rotation", "-"),
        ("user-rotate", "0"),
        ("number-up", "2"),
    )
    assert (rule.orientation_requested, rule.number_up_layout, rule.landscape) == (5, "tbrl", True)


def test_nup_rule_dash_outputs_mean_send_nothing() -> None:
    (rule,) = load(
        "*SPRule/number-up: r pdf-orientation/portrait pdf-rotation/0 pdf-content-rotation/0 "
        "user-rotate/0 number-up/1 *orientation-requested/- *number-up-layout/-"
    ).nup_rules
    assert (rule.orientation_requested, rule.number_up_layout, rule.landscape) == (
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("pdf-rotation/45", "'45' is not a valid pdf-rotation"),
        ("number-up/0", "'0' is not a valid number-up"),
        ("number-up/²", "'²' is not a valid number-up"),
        ("number-up/101", "'101' is not a valid number-up"),
        ("*orientation-requested/7", "'7' is not a valid orientation-requested"),
        ("*number-up-layout/lrlr", "'lrlr' is not a valid number-up-layout"),
        ("user-rotate/", "n-up term 'user-rotate/' has no value"),
        ("pdf-orientation/portrait", "'pdf-orientation' given twice in one n-up rule"),
    ],
)
def test_nup_rule_bad_terms(term: str, message: str) -> None:
    terms = {
        "pdf-orientation": "pdf-orientation/portrait",
        "pdf-rotation": "pdf-rotation/0",
        "pdf-content-rotation": "pdf-content-rotation/0",
        "user-rotate": "user-rotate/0",
        "number-up": "number-up/2",
        "orientation-requested": "*orientation-requested/-",
        "number-up-layout": "*number-up-layout/-",
    }
    key = term.lstrip("*").partition("/")[0]
    if "twice" not in message:
        terms[key] = term
    text = "*SPRule/number-up: r " + " ".join(terms.values())
    if "twice" in message:
        text += " " + term
    line, column, word, found = only_error(text)
    assert (line, word, found) == (1, term, message)
    assert column == text.rindex(term) + 1


def test_nup_rule_word_count() -> None:
    assert only_error("*SPRule/number-up: r a/1 b/2 c/3 d/4 e/5")[3] == (
        "*SPRule/number-up: needs at least 8 words, found 7"
    )


# ---------------------------------------------------------------------- diagnostics


def test_diagnostic_format_and_hint() -> None:
    (d,) = parse("*SPConstraint: c a/1", filename="x.ppde").diagnostics
    assert d.format() == (
        "x.ppde:1:18: error: *SPConstraint: takes 4 words, found 3 (hint: values contain no spaces)"
    )
    assert (d.filename, d.word, d.severity) == ("x.ppde", "a/1", Severity.ERROR)


def test_continued_line_reports_its_first_line_and_logical_column() -> None:
    result = parse("\n*SPConstraint: c \\\n   a/1 \\\n   b", filename="f")
    assert messages(result) == ["2:22:error:condition 'b' has no '/'"]


def test_undefined_values_are_warned_and_the_file_still_loads() -> None:
    result = parse(
        "*St org.savapage-finishings-staple\n*St *None 3\n*St A 20\n"
        "*SPConstraint: c org.savapage-finishings-staple/21 org.savapage.int-page-rotate180/2\n"
        "*SPExtra/org.savapage-finishings-staple/22: e *X/1\n"
        "*SPConstraint: d media/anything org.savapage-finishings-punch/99\n",
        filename="f",
    )
    assert result.rules is not None
    assert messages(result) == [
        "4:18:warning:'21' is not a value this file defines for org.savapage-finishings-staple",
        "4:52:warning:'2' is not a value this file defines for org.savapage.int-page-rotate180",
        "5:1:warning:'22' is not a value this file defines for org.savapage-finishings-staple",
        "6:33:warning:'99' is not a value this file defines for org.savapage-finishings-punch",
    ]
    assert result.diagnostics[0].hint == "defined: 3, 20"


def test_relaxed_mode_skips_bad_lines_and_keeps_the_rest() -> None:
    result = parse(
        "*SPConstraint: bad a\n*SPConstraint: good a/1 b/2\n*Slot Upper tray-1\n",
        filename="f",
        strict=False,
    )
    assert result.rules is not None
    assert [c.mnemonic for c in result.rules.constraints] == ["good"]
    assert [d.severity for d in result.diagnostics] == [Severity.WARNING, Severity.WARNING]
    assert all(d.hint.endswith("line skipped") for d in result.diagnostics)
    assert result.warnings == result.diagnostics
    assert result.errors == ()


def test_relaxed_skipped_line_does_not_warn_about_its_values() -> None:
    result = parse(
        "*St org.savapage-finishings-staple\n*St A 20\n"
        "*SPConstraint: c org.savapage-finishings-staple/21 a/b c/d\n",
        filename="f",
        strict=False,
    )
    assert len(result.diagnostics) == 1


# ---------------------------------------------------------------------- bad bytes


def test_oversized_text_and_bytes_are_refused_unread() -> None:
    big = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    for result in (
        parse(big, filename="big.ppde"),
        parse_bytes(big.encode(), filename="big.ppde"),
        parse_bytes(big.encode(), filename="big.ppde", strict=False),
    ):
        assert result.rules is None
        (d,) = result.diagnostics
        assert (d.line, d.column, d.severity) == (1, 1, Severity.ERROR)
        assert "more than the 2,097,152" in d.message


def test_ten_megabytes_of_garbage_is_one_diagnostic() -> None:
    garbage = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    result = parse_bytes(garbage, filename="g")
    assert result.rules is None
    assert len(result.diagnostics) == 1


def test_a_file_near_the_size_limit_is_read_in_seconds() -> None:
    # Repeated choices and options were found by scanning every earlier one: a pasted file
    # of 2 MB held a web process for minutes (this one took 45 s).
    choices = "".join(f"*Tray c{n} v{n}\n" for n in range(30_000))
    options = "".join(f"*SPJob/Copy: x{n} a\n" for n in range(30_000))
    one_option = "*SPJob/Copy: many " + " ".join(f"c{n}" for n in range(30_000)) + "\n"
    text = f"*Tray media-source\n{choices}{options}{one_option}"
    assert len(text) < MAX_FILE_BYTES
    started = time.monotonic()
    result = parse(text, filename="big.ppde")
    assert time.monotonic() - started < 10
    assert result.rules is not None
    assert len(result.rules.mappings[0].choices) == 30_000


def test_a_dead_condition_names_a_few_of_the_values_the_file_defines() -> None:
    # Each warning listed every value: 10,000 dead conditions on an option of 10,000 choices
    # took a minute and 700 MB to report.
    values = " ".join(f"c{n}" for n in range(100))
    result = parse(f"*SPJob/Copy: x {values}\n*SPConstraint: m x/zz y/b", filename="g")
    (d,) = result.diagnostics
    assert d.message == "'zz' is not a value this file defines for x"
    assert d.hint == "defined: " + ", ".join(sorted(values.split())[:20]) + " and 80 more"


def test_binary_garbage_is_reported_not_raised() -> None:
    result = parse_bytes(bytes(range(256)) * 4, filename="g")
    assert result.rules is None
    assert result.diagnostics[0].message == "byte 0x80 is not UTF-8"
    assert (result.diagnostics[0].line, result.diagnostics[0].column) == (2, 118)


def test_control_characters_in_valid_utf8() -> None:
    result = parse_bytes(b"*SPConstraint: c a/1 b/2\n\x00\x01\x02", filename="g")
    assert messages(result) == ["2:1:error:control character U+0000: this looks like binary data"]


def test_relaxed_reads_non_utf8_with_replacement_characters() -> None:
    result = parse_bytes(b"*SPConstraint: c a/\xe9 b/2\n", filename="g", strict=False)
    assert result.rules is not None
    assert result.rules.constraints[0].first.value == "\ufffd"
    (d,) = result.diagnostics
    assert (d.line, d.column, d.word, d.severity) == (1, 20, "e9", Severity.WARNING)


def test_byte_order_mark_is_ignored() -> None:
    result = parse_bytes(b"\xef\xbb\xbf*SPConstraint: c a/1 b/2", filename="g")
    assert result.rules is not None
    assert result.rules.constraints[0].mnemonic == "c"
