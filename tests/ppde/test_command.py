"""`manage.py ppde check|explain`: output, JSON shape and exit codes."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

if not apps.ready:  # Running with `-p no:django`: set Django up ourselves.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")
    django.setup()

ROOT = Path(__file__).parents[2]
CORPUS = Path(__file__).parent / "corpus"
OFFICE = ROOT / "ppdrules" / "office-mfp-ppd.ppde"
DRIVERLESS = ROOT / "ppdrules" / "driverless-ipp-everywhere.ppde"


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ppde", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code
        assert isinstance(code, int)
        return code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------- check


def test_check_good_files_exits_zero_silently() -> None:
    assert run("check", str(CORPUS / "valid-seed-examples.ppde"), str(OFFICE)) == (0, "", "")


def test_check_prints_gcc_style_errors_and_exits_one() -> None:
    path = CORPUS / "invalid-syntax.ppde"
    code, out, err = run("check", str(path), str(OFFICE))
    assert code == 1
    assert out == ""
    assert err.splitlines()[0] == (
        f"{path}:1:24: error: unknown landscape orientation 'Sideways' (hint: Plus90 or Minus90)"
    )
    assert len(err.splitlines()) == 31


def test_check_warnings_go_to_stdout_and_exit_zero() -> None:
    path = CORPUS / "warnings-only.ppde"
    code, out, err = run("check", str(path))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"{path}:3:1: warning: *LandscapeOrientation: repeated; this value replaces line 2"
    )


def test_check_relaxed_turns_errors_into_warnings() -> None:
    code, out, err = run("check", "--relaxed", str(CORPUS / "invalid-syntax.ppde"))
    assert (code, err) == (0, "")
    assert all(": warning: " in line for line in out.splitlines())


def test_check_missing_file_is_one_line_and_other_files_still_checked(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ppde"
    code, _, err = run("check", str(missing), str(CORPUS / "not-utf8.ppde"))
    assert code == 1
    assert err.splitlines() == [
        f"{missing}:1:1: error: cannot read: No such file or directory",
        f"{CORPUS / 'not-utf8.ppde'}:1:6: error: byte 0xe9 is not UTF-8 "
        "(hint: save the file as UTF-8)",
    ]


def test_check_oversized_file(tmp_path: Path) -> None:
    big = tmp_path / "big.ppde"
    big.write_bytes(b"#" * (11 * 1024 * 1024))
    code, _, err = run("check", str(big))
    assert code == 1
    assert "more than the 2,097,152 a rule file may have" in err


# ---------------------------------------------------------------------- explain


OFFICE_JOB = [
    "-o", "media=iso_a4_210x297mm",
    "-o", "sides=two-sided-long-edge",
    "-o", "print-color-mode=color",
    "-o", "org.savapage-finishings-staple=20",
    "-o", "org.savapage-cover-front-type=print-front",
    "-o", "org.savapage-cover-front-media-source=tray-3",
]  # fmt: skip


def test_explain_json() -> None:
    code, out, err = run(
        "explain", str(OFFICE), "--pages", "7", "--copies", "3", "--json", *OFFICE_JOB
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    # 7 pages, 1 on the cover: 6 sides per copy, all two-sided.
    assert data["total"] == "3.03"
    assert [(b["rule"], b["line"], b["quantity"], b["amount"]) for b in data["breakdown"]] == [
        ("a4-colour-duplex", 120, 18, "1.980"),
        ("staple-single", 128, 3, "0.15"),
        ("cover-front-card", 140, 3, "0.90"),
    ]
    assert data["violations"] == []
    assert data["outgoing"] == {
        "Duplex": "DuplexNoTumble",
        "ColorModel": "CMYK",
        "StapleLocation": "TopLeft",
        "CoverFront": "On",
        "CoverFrontTray": "Tray3",
        "CoverFrontPrint": "Front",
        "PageSize": "A4",
    }
    assert "refused" not in data


def test_explain_violation_refuses_with_exit_one() -> None:
    code, out, _ = run(
        "explain", str(OFFICE), "--pages", "2", "--json",
        "-o", "media=iso_a5_148x210mm", "-o", "org.savapage-finishings-staple=20",
    )  # fmt: skip
    assert code == 1
    data = json.loads(out)
    (violation,) = data["violations"]
    assert violation["constraint"] == "no-staple-a5"
    assert violation["options"] == [
        {"attribute": "org.savapage-finishings-staple", "value": "20"},
        {"attribute": "media", "value": "iso_a5_148x210mm"},
    ]
    assert data["refused"] == violation["message"]


def test_explain_ipp_target_with_printer_file_and_list_values(tmp_path: Path) -> None:
    printer = tmp_path / "printer.json"
    printer.write_text(
        json.dumps(
            {
                "finishings-supported": [3, 20, 28],
                "copies-supported": "1-999",
                "media-source-supported": ["auto", "main", "alternate"],
                "media-supported": ["iso_a4_210x297mm"],
                "cover-front-supported": ["cover-type", "media-col"],
            }
        )
    )
    code, out, err = run(
        "explain", str(DRIVERLESS), "--pages", "4", "--target", "ipp", "--json",
        "--printer", str(printer), "-o", "org.savapage-finishings-staple=20",
        "-o", "org.savapage-cover-front-type=print-none", "-o", "copies=2",
        "-o", "media=iso_a4_210x297mm", "-o", "media-color=white,blue",
    )  # fmt: skip
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["outgoing"] == {
        "finishings": 20,
        "cover-front": {"cover-type": "print-none"},
        "copies": 2,
        "media-col": {"media-size-name": "iso_a4_210x297mm"},
        "media-color": ["white", "blue"],
    }
    # Per copy: staple 0.04 and an unprinted A4 cover sheet 0.15.
    assert data["total"] == "0.38"


def test_explain_ipp_refusal_names_the_missing_option() -> None:
    code, out, _ = run(
        "explain", str(DRIVERLESS), "--pages", "1", "--target", "ipp", "--json",
        "-o", "org.savapage-finishings-staple=28",
    )  # fmt: skip
    assert code == 1
    assert json.loads(out)["refused"] == (
        "the printer does not support finishings 28 (staple-dual-left)"
    )


def test_explain_price_refusal() -> None:
    code, out, _ = run(
        "explain", str(OFFICE), "--pages", "1", "--json", "-o", "media=iso_a4_210x297mm"
    )
    assert code == 1
    data = json.loads(out)
    assert data["total"] is None
    assert data["refused"].startswith("no media cost rule prices one-sided sides of")


def test_explain_sends_a_mapped_tray_to_a_ppd_printer_as_its_ppd_option() -> None:
    code, out, _ = run(
        "explain", str(OFFICE), "--target", "ppd", "--pages", "2", "--json",
        "-o", "media-source=tray-3", *OFFICE_JOB[:6],
    )  # fmt: skip
    assert code == 0
    outgoing = json.loads(out)["outgoing"]
    assert outgoing["InputSlot"] == "Tray3"
    assert "media-col" not in outgoing


def test_explain_text_output() -> None:
    code, out, _ = run("explain", str(OFFICE), "--pages", "7", "--copies", "3", *OFFICE_JOB)
    assert code == 0
    assert "Options:\n  media: iso_a4_210x297mm*, iso_a3_297x420mm, iso_a5_148x210mm" in out
    assert "  none violated" in out
    assert '  StapleLocation = "TopLeft"' in out
    assert "by SPExtra front-cover-tray-3 (line 76): CoverFront=On" in out
    assert "  copy   staple-single (line 128): 0.05 x 3 = 0.15" in out
    assert out.rstrip().endswith("total 3.03")


def test_explain_text_output_when_refused() -> None:
    code, out, _ = run(
        "explain", str(OFFICE), "--pages", "2", "--orientation", "landscape",
        "-o", "org.savapage-finishings-booklet=toleft-totop", "-o", "sides=one-sided",
        "-o", "media=iso_a4_210x297mm", "-o", "print-color-mode=monochrome",
    )  # fmt: skip
    assert code == 1
    assert "VIOLATED org.savapage-finishings-booklet=toleft-totop cannot be combined" in out
    assert "REFUSED: " in out
    assert "orientation-requested = 5" in out
    assert "withheld: " not in out or "org.savapage" in out


def test_explain_without_booklet_constraints() -> None:
    code, _, _ = run(
        "explain", str(OFFICE), "--pages", "2", "--no-booklet-constraints",
        "-o", "org.savapage-finishings-booklet=toleft-totop", "-o", "sides=one-sided",
        "-o", "media=iso_a4_210x297mm", "-o", "print-color-mode=monochrome",
    )  # fmt: skip
    assert code == 0


def test_explain_file_with_errors_prints_diagnostics() -> None:
    code, out, err = run("explain", str(CORPUS / "not-utf8.ppde"), "--pages", "1")
    assert (code, out) == (1, "")
    assert "error: byte 0xe9 is not UTF-8" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pages", "-1"], "--pages and --copies cannot be negative"),
        (["--pages", "1", "-o", "media"], "-o media: write ATTR=VALUE"),
        (["--pages", "1", "-o", "copies=x"], "-o copies=x: not a number"),
        (["--pages", "1", "-o", "copies=²"], "-o copies=²: not a number"),
        (
            ["--pages", "1", "--copies", "2", "-o", "copies=3"],
            "--copies 2 and -o copies=3 disagree",
        ),
        (["--pages", "1", "--printer", "/nonexistent.json"], "/nonexistent.json: cannot read"),
    ],
)
def test_explain_usage_errors_are_one_line(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("explain", str(OFFICE), *args)


def test_explain_missing_rule_file() -> None:
    with pytest.raises(CommandError, match=r"^/nonexistent.ppde: cannot read"):
        run("explain", "/nonexistent.ppde", "--pages", "1")


@pytest.mark.parametrize(
    ("content", "message"), [("[1]", "expected a JSON object"), ("{", "not JSON")]
)
def test_explain_bad_printer_file(tmp_path: Path, content: str, message: str) -> None:
    printer = tmp_path / "p.json"
    printer.write_text(content)
    with pytest.raises(CommandError, match=message):
        run("explain", str(OFFICE), "--pages", "1", "--printer", str(printer))
