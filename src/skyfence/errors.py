"""Errors that are the user's to fix (bad files, bad arguments).

The command line turns any :class:`UserError` into its message on stderr and
exit code 2; nothing that is the user's fault ever shows a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user gave us; the message says what and where."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(UserError):
    """A scenario file that cannot be used; one line per problem."""
