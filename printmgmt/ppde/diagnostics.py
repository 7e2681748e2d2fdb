"""Located problems found while reading a rule file."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    """How bad a problem is: an error makes a file unusable in strict mode."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, located like a compiler message.

    `line` is the first physical line of the logical line; `column` counts characters
    (from 1) in the logical line, which for a single-line directive is the column in the file.
    """

    filename: str
    line: int
    column: int
    word: str
    severity: Severity
    message: str
    hint: str = ""

    def format(self) -> str:
        """Render as `FILE:LINE:COL: severity: message [hint]`, the form editors understand."""
        text = f"{self.filename}:{self.line}:{self.column}: {self.severity.value}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text
