"""Rule-file versions: drafts keep broken text, only clean versions activate, rollback."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.printers.models import Printer
from apps.rules.models import RuleFile, RuleFileActivation, RuleFileVersion
from apps.rules.selectors import engine_for_rule_file
from apps.rules.services import (
    ActivationConflict,
    RuleFileConflict,
    RuleFileError,
    rule_file_activate,
    rule_file_import,
    rule_file_save,
)
from printmgmt.ppde import MAX_FILE_BYTES, Severity, parse_bytes
from tests.peers import IppEvePrinter

pytestmark = pytest.mark.django_db

GOOD = """*Staple org.savapage-finishings-staple
*Staple *None 3
*Staple TopLeft 20
*SPJob/Copy/Cost: 0.05 staple org.savapage-finishings-staple/20
"""
DEARER = GOOD.replace("0.05", "0.07")
BROKEN = GOOD + "*SPJob/Copy/Cost: cheap staple org.savapage-finishings-staple/20\n"


def staple_price(rule_file: RuleFile) -> object:
    engine = engine_for_rule_file(rule_file)
    return engine.price({"org.savapage-finishings-staple": "20"}, pages=1).total


def test_a_broken_version_is_kept_as_a_draft_but_never_activated() -> None:
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk)
    broken = rule_file_save("office", BROKEN)
    assert (broken.number, broken.error_count) == (2, 1)
    with pytest.raises(RuleFileError, match=r"1 error.*the active version keeps serving"):
        rule_file_activate(broken.pk)
    rule_file = RuleFile.objects.get(name="office")
    assert rule_file.active_version == first
    assert str(staple_price(rule_file)) == "0.05"


def test_activation_takes_effect_at_once_and_rollback_is_activating_an_old_version() -> None:
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk)
    second = rule_file_save("office", DEARER, comment="staples cost more")
    rule_file_activate(second.pk)
    rule_file = RuleFile.objects.get(name="office")
    assert str(staple_price(rule_file)) == "0.07"
    rule_file_activate(first.pk)
    rule_file.refresh_from_db()
    assert str(staple_price(rule_file)) == "0.05"
    assert [v.number for v in rule_file.versions.all()] == [2, 1]


def test_without_rules_the_engine_offers_printer_defaults_only() -> None:
    assert engine_for_rule_file(None).rules.mappings == ()


def test_import_refuses_a_file_with_errors_with_its_location_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.ppde"
    path.write_text(BROKEN)
    with pytest.raises(RuleFileError, match=r"bad\.ppde:5:\d+: error: .*ppde check"):
        rule_file_import(path)
    binary = tmp_path / "binary.ppde"
    binary.write_bytes(b"*Staple org.savapage-finishings-staple\n\xff\xfe\x00garbage")
    with pytest.raises(RuleFileError, match=r"binary\.ppde:2:1: error: byte 0xff is not UTF-8"):
        rule_file_import(binary)
    missing = tmp_path / "missing.ppde"
    with pytest.raises(RuleFileError, match=r"missing\.ppde: cannot be read \(No such file"):
        rule_file_import(missing)
    assert not RuleFile.objects.exists()
    assert not RuleFileVersion.objects.exists()


def test_import_of_a_good_file_activates_it(tmp_path: Path) -> None:
    path = tmp_path / "office.ppde"
    path.write_text(GOOD)
    imported = rule_file_import(path)
    assert imported.rule_file.active_version == imported.version
    assert imported.version.comment == "imported from office.ppde"
    assert imported.skipped == ()


def test_import_reads_a_byte_order_mark_as_ppde_check_does(tmp_path: Path) -> None:
    path = tmp_path / "office.ppde"
    path.write_bytes(b"\xef\xbb\xbf# office\n" + GOOD.encode())
    assert parse_bytes(path.read_bytes(), filename=str(path)).diagnostics == ()
    imported = rule_file_import(path)
    assert imported.version.text == "# office\n" + GOOD
    assert imported.rule_file.active_version == imported.version
    assert str(staple_price(imported.rule_file)) == "0.05"


def test_import_refuses_a_comment_holding_nul_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nul.ppde"
    path.write_bytes(GOOD.encode() + b"# a\x00b\n")
    with pytest.raises(RuleFileError, match=r"nul\.ppde: line 5, column 4: a NUL character"):
        rule_file_import(path)
    assert not RuleFileVersion.objects.exists()


def test_a_failed_activation_keeps_no_imported_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "office.ppde"
    path.write_text(GOOD)

    def refuse(version_id: int, *, by: object = None) -> None:
        raise RuleFileError("refused for the test")

    monkeypatch.setattr("apps.rules.services.rule_file_activate", refuse)
    with pytest.raises(RuleFileError, match=r"office\.ppde: refused for the test"):
        rule_file_import(path)
    assert not RuleFile.objects.exists()


# ---------------------------------------------------------------- relaxed import

RELAXED = GOOD + (
    "*SPJob/Copy/Cost: cheap staple org.savapage-finishings-staple/20\n"
    "*SPConstraint: split \\\n"
    "    # a comment inside the continuation\n"
    "    org.savapage-finishings-staple/20 bogus\n"
)


def test_a_relaxed_import_keeps_bad_lines_as_comments_and_activates(tmp_path: Path) -> None:
    path = tmp_path / "old.ppde"
    path.write_text(RELAXED)
    imported = rule_file_import(path, relaxed=True)
    assert [(d.line, d.severity, d.hint) for d in imported.skipped] == [
        (5, Severity.WARNING, "kept as a comment"),
        (6, Severity.WARNING, "kept as a comment"),
    ]
    lines = imported.version.text.split("\n")
    assert lines[:4] == GOOD.split("\n")[:4]
    assert lines[4] == (
        f"# skipped on import: line 5: {imported.skipped[0].message}: "
        "*SPJob/Copy/Cost: cheap staple org.savapage-finishings-staple/20"
    )
    assert lines[5].startswith(f"# skipped on import: line 6: {imported.skipped[1].message}: ")
    assert lines[6] == "    # a comment inside the continuation"
    assert lines[7] == (
        "# skipped on import: line 8: continues line 6:     org.savapage-finishings-staple/20 bogus"
    )
    assert imported.version.is_clean
    assert imported.rule_file.active_version == imported.version
    assert (
        imported.version.comment == "imported from old.ppde (relaxed: 2 line(s) kept as comments)"
    )
    assert str(staple_price(imported.rule_file)) == "0.05"


def test_a_relaxed_import_reads_bytes_that_are_not_utf8_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ppde"
    path.write_bytes(b"# B\xfcro\n" + GOOD.encode())
    imported = rule_file_import(path, relaxed=True)
    assert [d.message for d in imported.skipped] == ["byte 0xfc is not UTF-8"]
    assert imported.version.text.startswith("# B\ufffdro\n")
    assert imported.rule_file.active_version == imported.version


def test_a_relaxed_import_keeps_a_binary_line_readable(tmp_path: Path) -> None:
    path = tmp_path / "binary.ppde"
    path.write_bytes(GOOD.encode() + b"*Staple Dual\x00 28\n")
    imported = rule_file_import(path, relaxed=True)
    assert imported.version.text.endswith(
        "# skipped on import: line 5: control character U+0000: this looks like binary data: "
        "*Staple Dual\ufffd 28\n"
    )


def test_a_relaxed_import_of_a_file_too_large_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.ppde"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 10))
    with pytest.raises(RuleFileError, match="more than the 2,097,152 a rule file may have"):
        rule_file_import(path, relaxed=True)
    # Near the limit, the comments that name the problems would take it over: refused too.
    bad_lines = "*Bogus/x: y\n" * 3
    padding = "#" * 99 + "\n"
    near = tmp_path / "near.ppde"
    near.write_text(padding * ((MAX_FILE_BYTES - len(bad_lines)) // len(padding)) + bad_lines)
    with pytest.raises(RuleFileError, match=r"more than .* this cannot be skipped"):
        rule_file_import(near, relaxed=True)
    assert not RuleFile.objects.exists()


def test_printer_add_imports_rules_relaxed_and_lists_what_it_skipped(
    ippeveprinter: IppEvePrinter, tmp_path: Path
) -> None:
    path = tmp_path / "old.ppde"
    path.write_text(RELAXED)
    out, err = StringIO(), StringIO()
    call_command(
        "printer", "add", "hall", "--uri", ippeveprinter.uri, "--rules", str(path), "--relaxed",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert out.getvalue().startswith("printer hall added")
    assert err.getvalue().splitlines() == [
        f"{path}:5:19: warning: 'cheap' is not a decimal number (hint: kept as a comment)",
        f"{path}:6:56: warning: condition 'bogus' has no '/' (hint: kept as a comment)",
    ]
    printer = Printer.objects.get(name="hall")
    assert printer.rule_file is not None
    assert printer.rule_file.active_version is not None
    assert printer.rule_file.active_version.is_clean
    with pytest.raises(CommandError, match="--relaxed applies to --rules FILE"):
        call_command("printer", "add", "desk", "--uri", ippeveprinter.uri, "--relaxed")


# ---------------------------------------------------------------- concurrent saves, activations


def test_a_save_from_an_older_version_is_refused_naming_who_saved_the_newer_one() -> None:
    pat = User.objects.create(username="pat")
    root = User.objects.create(username="root")
    first = rule_file_save("office", GOOD)
    # pat and root both open the editor on v1; pat saves first.
    rule_file_save("office", DEARER, author=pat, newest_seen=first.number)
    with pytest.raises(RuleFileConflict) as refused:
        rule_file_save("office", BROKEN, author=root, newest_seen=first.number)
    saved_at = timezone.localtime(RuleFileVersion.objects.get(number=2).created_at)
    assert str(refused.value) == (
        f"not saved: version 2 by pat on {saved_at:%Y-%m-%d %H:%M} came after version 1, the "
        "newest you had seen; merge those changes into your text and save again"
    )
    assert [v.number for v in refused.value.newer] == [2]
    assert RuleFileVersion.objects.count() == 2
    # Having seen v2, root's save goes through; commands pass no version and always save.
    assert rule_file_save("office", BROKEN, author=root, newest_seen=2).number == 3
    assert rule_file_save("office", GOOD).number == 4


def test_every_activation_is_kept_with_who_when_and_what_it_replaced() -> None:
    pat = User.objects.create(username="pat")
    root = User.objects.create(username="root")
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk, by=pat)
    second = rule_file_save("office", DEARER)
    rule_file_activate(second.pk, by=root)
    rule_file_activate(first.pk, by=pat)  # the rollback
    activations = list(RuleFileActivation.objects.order_by("pk"))
    assert [(a.version.number, a.replaced, a.activated_by) for a in activations] == [
        (1, None, pat),
        (2, first, root),
        (1, second, pat),
    ]
    assert [a.is_rollback for a in activations] == [False, False, True]
    first.refresh_from_db()
    assert first.activated_at == activations[2].activated_at
    assert activations[0].activated_at < activations[2].activated_at


def test_an_activation_after_another_the_admin_did_not_see_is_refused() -> None:
    pat = User.objects.create(username="pat")
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk, by=pat, active_seen=0)
    second = rule_file_save("office", DEARER)
    third = rule_file_save("office", DEARER + "# fixed\n")
    rule_file_activate(third.pk, by=pat, active_seen=1)
    with pytest.raises(
        ActivationConflict,
        match=r"version 3 was activated by pat on .* after you saw version 1 active",
    ):
        rule_file_activate(second.pk, active_seen=1)
    assert RuleFile.objects.get(name="office").active_version == third
    # Commands name no version seen and always activate.
    rule_file_activate(second.pk)
    assert RuleFile.objects.get(name="office").active_version == second


def test_a_version_that_breaks_a_rule_added_since_it_was_saved_is_not_activated() -> None:
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk)
    # Saved clean by an earlier release, before number-up was limited to 100.
    older = rule_file_save("office", GOOD)
    old_text = GOOD + "*Nup number-up\n*Nup *1 1\n*Nup 120 120\n"
    RuleFileVersion.objects.filter(pk=older.pk).update(text=old_text)
    with pytest.raises(
        RuleFileError,
        match=r"office v2 has 1 error\(s\) and cannot be activated; the active version keeps "
        r"serving \(first: office.ppde:7:10: error: '120' is not a number-up",
    ):
        rule_file_activate(older.pk)
    rule_file = RuleFile.objects.get(name="office")
    assert rule_file.active_version == first
    assert str(staple_price(rule_file)) == "0.05"


def test_an_active_version_that_breaks_a_rule_added_since_serves_without_that_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Activated clean by an earlier release, before number-up was limited to 100: every quote
    # and release on its printers failed with a server error. It is read as SavaPage reads
    # a file, the line in error skipped, and the error is logged.
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk)
    RuleFileVersion.objects.filter(pk=first.pk).update(
        text=GOOD + "*Nup number-up\n*Nup *1 1\n*Nup 120 120\n"
    )
    rule_file = RuleFile.objects.get(name="office")
    assert str(staple_price(rule_file)) == "0.05"
    engine = engine_for_rule_file(rule_file)
    (nup,) = [m for m in engine.rules.mappings if m.attribute == "number-up"]
    assert [c.value for c in nup.choices] == ["1"]
    assert "rule file office: active version 1 has errors" in caplog.text
    assert "office.ppde:7:10: warning: '120' is not a number-up" in caplog.text


def test_an_active_version_whose_price_breaks_a_rule_added_since_does_not_serve() -> None:
    # Skipped, a price line would leave what it priced free: no job is priced by it.
    first = rule_file_save("office", GOOD)
    rule_file_activate(first.pk)
    RuleFileVersion.objects.filter(pk=first.pk).update(
        text=GOOD.replace("0.05", "10000000000000000000000000000")
    )
    with pytest.raises(ValueError, match="has errors in its prices and cannot serve"):
        engine_for_rule_file(RuleFile.objects.get(name="office"))
