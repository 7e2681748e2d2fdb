"""Reads on rule files: the engine for a printer's active rules, built once per version."""

from __future__ import annotations

from functools import lru_cache

from apps.rules.models import RuleFile, RuleFileVersion
from printmgmt.ppde import RuleEngine, parse


@lru_cache(maxsize=64)
def _engine_for_version(version_id: int) -> RuleEngine:
    # Versions never change once saved, so the id is a safe cache key across activations.
    version = RuleFileVersion.objects.get(pk=version_id)
    result = parse(version.text, filename=f"{version.rule_file.name}.ppde", strict=True)
    if result.rules is None:
        raise ValueError(f"{version} is not clean and cannot serve")
    return RuleEngine(result.rules)


def engine_for_rule_file(rule_file: RuleFile | None) -> RuleEngine:
    """The engine of the active version, or one with no rules (standard options only)."""
    if rule_file is None or rule_file.active_version_id is None:
        return RuleEngine()
    return _engine_for_version(rule_file.active_version_id)
