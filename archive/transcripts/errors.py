"""What a transcript file can be refused for, and what it can be imported with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """Something wrong in a file that was imported all the same (e.g. overlapping cues)."""
    line: int  #: 1-based line of the file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class TranscriptError(ValueError):
    """The file is refused; `line` (1-based) says where, `reason` why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
