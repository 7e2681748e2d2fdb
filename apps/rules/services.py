"""Writes on rule files: save a version (checked), activate a clean one, roll back, import."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.rules.models import RuleFile, RuleFileActivation, RuleFileVersion
from apps.rules.relaxed import CannotSkip, comment_out_errors
from printmgmt.ppde import MAX_FILE_BYTES, Diagnostic, parse, parse_bytes

logger = logging.getLogger(__name__)


class RuleFileError(Exception):
    """A rule-file action was refused; the message says why."""


class RuleFileConflict(RuleFileError):
    """A save refused because versions were saved after the newest one its author had seen."""

    def __init__(self, newest_seen: int, newer: list[RuleFileVersion]) -> None:
        self.newest_seen = newest_seen
        self.newer = newer  # oldest first
        saved = ", ".join(
            f"version {v.number} by {_saved_by(v)} on {_minute(v.created_at)}" for v in newer
        )
        super().__init__(
            f"not saved: {saved} came after version {newest_seen}, the newest you had seen; "
            "merge those changes into your text and save again"
        )


class ActivationConflict(RuleFileError):
    """An activation refused because another version became active after the page showed
    which one was: it would silently undo that activation."""

    def __init__(self, active_seen: int, activation: RuleFileActivation) -> None:
        self.active_seen = active_seen
        self.activation = activation
        by = activation.activated_by.username if activation.activated_by else "a command"
        seen = f"version {active_seen}" if active_seen else "no version"
        super().__init__(
            f"not activated: version {activation.version.number} was activated by {by} on "
            f"{_minute(activation.activated_at)}, after you saw {seen} active; check it and "
            "activate again"
        )


def _minute(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _saved_by(version: RuleFileVersion) -> str:
    """Who saved a version, for messages: a user, or a command (no user)."""
    return version.author.username if version.author else "a command"


def check_rules(text: str, *, filename: str) -> tuple[Diagnostic, ...]:
    """Every diagnostic of a text, read strictly, as activation will read it."""
    return parse(text, filename=filename, strict=True).diagnostics


def rule_file_save(
    name: str,
    text: str,
    *,
    author: User | None = None,
    comment: str = "",
    newest_seen: int | None = None,
) -> RuleFileVersion:
    """Save `text` as the next version of rule file `name` (created if new): a draft.

    A version with errors is kept (so work is never lost) but cannot be activated. With
    `newest_seen` (the newest version number the editor knew when it was opened), a save is
    refused with RuleFileConflict when someone saved a newer version meanwhile: it would
    silently undo their change.
    """
    _refuse_nul(text)
    diagnostics = check_rules(text, filename=f"{name}.ppde")
    errors = sum(1 for d in diagnostics if d.severity.value == "error")
    with transaction.atomic():
        rule_file, _ = RuleFile.objects.select_for_update().get_or_create(name=name)
        if newest_seen is not None:
            newer = list(
                rule_file.versions.filter(number__gt=newest_seen)
                .select_related("author")
                .order_by("number")
            )
            if newer:
                raise RuleFileConflict(newest_seen, newer)
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


def _refuse_nul(text: str) -> None:
    """The database cannot store NUL, which the parser lets through only in comments."""
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise RuleFileError(
            f"line {line}, column {column}: a NUL character; rule files are plain UTF-8 text"
        )


def rule_file_activate(
    version_id: int, *, by: User | None = None, active_seen: int | None = None
) -> RuleFileVersion:
    """Make a clean version the one every printer of the rule file uses, at once.

    Every activation is recorded (who, when, which version it replaced); activating an older
    version is a rollback. With `active_seen` (the number of the version the admin saw
    active, 0 for none), an activation is refused with ActivationConflict when another
    version has become active since: a page opened before it would otherwise roll it back
    unseen.
    """
    with transaction.atomic():
        version = RuleFileVersion.objects.select_for_update().get(pk=version_id)
        rule_file = RuleFile.objects.select_for_update().get(pk=version.rule_file_id)
        # Read again, not taken from error_count: a version saved by an earlier release may
        # break a rule added since, and active it would fail every job of its printers.
        errors = parse(version.text, filename=f"{rule_file.name}.ppde").errors
        if errors:
            raise RuleFileError(
                f"{rule_file.name} v{version.number} has {len(errors)} error(s) and cannot be "
                f"activated; the active version keeps serving (first: {errors[0].format()})"
            )
        if active_seen is not None:
            _refuse_unseen_activation(rule_file, active_seen)
        replaced_id = rule_file.active_version_id
        rule_file.active_version = version
        rule_file.save(update_fields=["active_version"])
        activation = RuleFileActivation.objects.create(
            rule_file=rule_file, version=version, replaced_id=replaced_id, activated_by=by
        )
        version.activated_at = activation.activated_at
        version.save(update_fields=["activated_at"])
    logger.info("rule file %s: version %s activated by %s", rule_file.name, version.number, by)
    return version


def _refuse_unseen_activation(rule_file: RuleFile, active_seen: int) -> None:
    active = rule_file.active_version
    if (active.number if active else 0) == active_seen:
        return
    latest = (
        rule_file.activations.select_related("version", "activated_by")
        .order_by("-activated_at", "-pk")
        .first()
    )
    if latest is not None:
        raise ActivationConflict(active_seen, latest)


@dataclass(frozen=True)
class RuleFileImport:
    """An imported, active version and, for a relaxed import, the lines it kept as comments."""

    version: RuleFileVersion
    skipped: tuple[Diagnostic, ...]

    @property
    def rule_file(self) -> RuleFile:
        return self.version.rule_file


def rule_file_import(
    path: Path, *, name: str | None = None, author: User | None = None, relaxed: bool = False
) -> RuleFileImport:
    """Save a file from disk as a new version and activate it; all or nothing.

    The file is read as `ppde check` reads it (UTF-8, an optional byte-order mark). Strict
    imports refuse a file with errors. Relaxed ones (SavaPage-compatible) keep each line with
    an error as a comment that names the problem, so the version is clean, and say which.
    """
    data = _read(path)
    filename = str(path)
    checked = parse_bytes(data, filename=filename, strict=not relaxed)
    if checked.errors:
        raise RuleFileError(
            f"{checked.errors[0].format()} — fix the file (`manage.py ppde check {path}`) "
            "and import again"
        )
    skipped: tuple[Diagnostic, ...] = ()
    try:
        text = data.decode("utf-8-sig")  # as parse_bytes: UTF-8 after an optional BOM
    except UnicodeDecodeError:
        # Only a relaxed import gets here; its reading put the warning first.
        text = data.decode("utf-8-sig", errors="replace")
        skipped = checked.diagnostics[:1]
    comment = f"imported from {path.name}"
    if relaxed:
        try:
            text, commented = comment_out_errors(text, filename=filename)
        except CannotSkip as error:
            raise RuleFileError(f"{error} — this cannot be skipped") from None
        skipped += commented
        if commented:
            comment += f" (relaxed: {len(commented)} line(s) kept as comments)"
    try:
        with transaction.atomic():
            version = rule_file_save(name or path.stem, text, author=author, comment=comment)
            active = rule_file_activate(version.pk, by=author)
    except RuleFileError as error:
        raise RuleFileError(f"{path}: {error}") from None
    return RuleFileImport(active, skipped)


def rule_file_skips(path: Path) -> tuple[Diagnostic, ...]:
    """The lines a relaxed import of `path` keeps as comments, with why (to say so)."""
    text = _read(path).decode("utf-8-sig", errors="replace")
    try:
        return comment_out_errors(text, filename=str(path))[1]
    except CannotSkip:
        return ()  # the import itself says why


def _read(path: Path) -> bytes:
    """The file's bytes; of a file over the size limit, just enough for the parser to say so."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise RuleFileError(f"{path}: cannot be read ({error.strerror or error})") from None
