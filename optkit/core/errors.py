"""Exceptions with one clear message each; the CLI turns them into exit codes without tracebacks."""

from __future__ import annotations


class OptkitError(Exception):
    """Base class of every error optkit raises on purpose."""


class InvalidInputError(OptkitError, ValueError):
    """Bad input: a file, a JSON field, a CLI flag or a Python argument. Names the field.

    `source` is where the input came from (a path), `field` the dotted path of the offending
    field (``transition[1]``), `problem` what is wrong with it.
    """

    def __init__(self, field: str, problem: str, source: str | None = None):
        self.field = field
        self.problem = problem
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.field}: {self.problem}" if self.field else f"{where}{self.problem}"

    def with_source(self, source: str) -> InvalidInputError:
        return InvalidInputError(self.field, self.problem, source=source)


class UnknownNameError(OptkitError, KeyError):
    """A family, solver or preset name that is not registered; lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, list(valid)
        super().__init__(f"unknown {kind} {name!r}; valid: {', '.join(self.valid) or '(none)'}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class DuplicateNameError(OptkitError):
    """Registering a name twice."""


class MissingExtraError(OptkitError, ImportError):
    """An optional backend is not installed. Carries the real import error and the extra to add."""

    def __init__(self, what: str, extra: str, cause: BaseException):
        self.extra = extra
        super().__init__(
            f"{what} needs the optional '{extra}' extra: pip install 'optkit[{extra}]' "
            f"(import failed: {type(cause).__name__}: {cause})"
        )


class NoDecisionError(OptkitError):
    """Reading a decision from a result whose status carries none."""
