"""Reads on rule files: the engine for a printer's active rules, built once per version."""

from __future__ import annotations

import logging
from functools import lru_cache

from apps.rules.models import RuleFile, RuleFileVersion
from printmgmt.ppde import Diagnostic, RuleEngine, parse
from printmgmt.ppde.model import CostScope

logger = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def engine_for_version(version_id: int) -> RuleEngine:
    """The engine of one version (a released job's, whatever is active now)."""
    # Versions never change once saved, so the id is a safe cache key across activations.
    version = RuleFileVersion.objects.select_related("rule_file").get(pk=version_id)
    filename = f"{version.rule_file.name}.ppde"
    result = parse(version.text, filename=filename, strict=True)
    if result.rules is None:
        # Activated clean by an earlier release, it breaks a rule added since. Failing would
        # fail every job of its printers: it is read as SavaPage reads it, skipping the
        # lines in error, until an admin activates a fixed version (the editor says so).
        result = parse(version.text, filename=filename, strict=False)
        skipped = [d for d in result.warnings if "line skipped" in d.hint]
        logger.error(
            "rule file %s: active version %s has errors and is read without those lines: %s",
            version.rule_file.name,
            version.number,
            "; ".join(d.format() for d in skipped),
        )
        lines = version.text.split("\n")
        if result.rules is None or any(_is_cost_rule(lines[d.line - 1]) for d in skipped):
            # Without a price line, what it priced could print for nothing.
            raise ValueError(f"{version} has errors in its prices and cannot serve")
    return RuleEngine(result.rules)


def _is_cost_rule(line: str) -> bool:
    return line.lstrip().startswith(tuple(scope.value for scope in CostScope))


def engine_for_rule_file(rule_file: RuleFile | None) -> RuleEngine:
    """The engine of the active version, or one with no rules (standard options only)."""
    if rule_file is None or rule_file.active_version_id is None:
        return RuleEngine()
    return engine_for_version(rule_file.active_version_id)


def active_version_errors(rule_file: RuleFile) -> tuple[Diagnostic, ...]:
    """The errors the active version has under this release (none when it was activated)."""
    active = rule_file.active_version
    if active is None:
        return ()
    return parse(active.text, filename=f"{rule_file.name}.ppde", strict=True).errors
