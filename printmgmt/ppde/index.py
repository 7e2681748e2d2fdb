"""Look rules up by the attribute values they need, instead of scanning them all.

Every rule that has a positive condition `attr/value` can only match a job that has that
value, so it is filed under (attr, value). Rules whose conditions are all negations are
kept aside and always tried. A job's candidates are then a handful of dictionary look-ups,
returned in file order so that "first match" keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from printmgmt.ppde.model import Condition, JobAttributes

Rule = TypeVar("Rule")


class RuleIndex(Generic[Rule]):
    def __init__(
        self, rules: Sequence[Rule], conditions_of: Callable[[Rule], tuple[Condition, ...]]
    ) -> None:
        self._rules = tuple(rules)
        self._by_value: dict[tuple[str, str], list[int]] = {}
        self._always: list[int] = []
        named: set[str] = set()
        for position, rule in enumerate(self._rules):
            named.update(c.attribute for c in conditions_of(rule))
            key = next(((c.attribute, c.value) for c in conditions_of(rule) if not c.negated), None)
            if key is None:
                self._always.append(position)
            else:
                self._by_value.setdefault(key, []).append(position)
        #: Every attribute some rule's condition names.
        self.named_attributes = frozenset(named)

    def __len__(self) -> int:
        return len(self._rules)

    def candidates(self, attributes: JobAttributes) -> list[Rule]:
        """Rules that might match, in file order; the caller still tests each one."""
        positions = list(self._always)
        by_value = self._by_value
        for name, value in attributes.items():
            for single in (value,) if isinstance(value, str) else value:
                found = by_value.get((name, single))
                if found is not None:
                    positions.extend(found)
        # A setOf value may repeat itself; a rule must still be tried once.
        return [self._rules[p] for p in sorted(set(positions))]
