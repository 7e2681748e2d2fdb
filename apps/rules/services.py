"""Writes on rule files: save a version (checked), activate a clean one, roll back."""

from __future__ import annotations

import logging
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.rules.models import RuleFile, RuleFileVersion
from printmgmt.ppde import Diagnostic, parse

logger = logging.getLogger(__name__)


class RuleFileError(Exception):
    """A rule-file action was refused; the message says why."""


def check_rules(text: str, *, filename: str) -> tuple[Diagnostic, ...]:
    """Every diagnostic of a text, read strictly, as activation will read it."""
    return parse(text, filename=filename, strict=True).diagnostics


def rule_file_save(
    name: str, text: str, *, author: User | None = None, comment: str = ""
) -> RuleFileVersion:
    """Save `text` as the next version of rule file `name` (created if new): a draft.

    A version with errors is kept (so work is never lost) but cannot be activated.
    """
    diagnostics = check_rules(text, filename=f"{name}.ppde")
    errors = sum(1 for d in diagnostics if d.severity.value == "error")
    with transaction.atomic():
        rule_file, _ = RuleFile.objects.select_for_update().get_or_create(name=name)
        last = rule_file.versions.aggregate(last=Max("number"))["last"] or 0
        version = RuleFileVersion.objects.create(
            rule_file=rule_file,
            number=last + 1,
            text=text,
            error_count=errors,
            warning_count=len(diagnostics) - errors,
            author=author,
            comment=comment[:200],
        )
    return version


def rule_file_activate(version_id: int, *, by: User | None = None) -> RuleFileVersion:
    """Make a clean version the one every printer of the rule file uses, at once."""
    with transaction.atomic():
        version = RuleFileVersion.objects.select_for_update().get(pk=version_id)
        if not version.is_clean:
            raise RuleFileError(
                f"{version} has {version.error_count} error(s) and cannot be activated; "
                "the active version keeps serving"
            )
        rule_file = RuleFile.objects.select_for_update().get(pk=version.rule_file_id)
        rule_file.active_version = version
        rule_file.save(update_fields=["active_version"])
        version.activated_at = timezone.now()
        version.save(update_fields=["activated_at"])
    logger.info("rule file %s: version %s activated by %s", rule_file.name, version.number, by)
    return version


def rule_file_import(
    path: Path, *, name: str | None = None, author: User | None = None
) -> RuleFileVersion:
    """Save a file from disk as a new version and activate it; refuse a file with errors."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFileError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    version = rule_file_save(
        name or path.stem, text, author=author, comment=f"imported from {path.name}"
    )
    if not version.is_clean:
        first = check_rules(text, filename=str(path))[0]
        raise RuleFileError(
            f"{first.format()} — fix the file (`manage.py ppde check {path}`) and import again"
        )
    return rule_file_activate(version.pk, by=author)
