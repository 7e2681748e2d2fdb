"""Rule-file versions: drafts keep broken text, only clean versions activate, rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.rules.models import RuleFile
from apps.rules.selectors import engine_for_rule_file
from apps.rules.services import (
    RuleFileError,
    rule_file_activate,
    rule_file_import,
    rule_file_save,
)

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


def test_import_refuses_a_file_with_errors_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.ppde"
    path.write_text(BROKEN)
    with pytest.raises(RuleFileError, match=r"bad\.ppde:5:\d+: error: .*ppde check"):
        rule_file_import(path)
    binary = tmp_path / "binary.ppde"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RuleFileError, match="cannot be read as UTF-8"):
        rule_file_import(binary)
    assert RuleFile.objects.get(name="bad").active_version is None


def test_import_of_a_good_file_activates_it(tmp_path: Path) -> None:
    path = tmp_path / "office.ppde"
    path.write_text(GOOD)
    version = rule_file_import(path)
    assert version.rule_file.active_version == version
    assert version.comment == "imported from office.ppde"
