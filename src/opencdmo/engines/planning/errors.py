"""The one exception every reader and every problem class raises for bad input."""

from __future__ import annotations


class InstanceError(ValueError):
    """An instance field is malformed or inconsistent.

    Parameters
    ----------
    path
        JSON path of the offending field, for example ``units[2].tasks[0].bmax_kg``; empty
        for the document itself.
    reason
        What is wrong, in words.
    source
        The file (or other source) the field came from, when known.
    """

    def __init__(self, path: str, reason: str, source: str | None = None) -> None:
        self.path = path
        self.reason = reason
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        where = ": ".join(part for part in (self.source, self.path) if part)
        return f"{where}: {self.reason}" if where else self.reason

    def within(self, prefix: str = "", source: str | None = None) -> InstanceError:
        """Return the same error located under ``prefix`` and attributed to ``source``.

        Parameters
        ----------
        prefix
            JSON path of the object that holds the field (joined with a dot or bracket).
        source
            File name to attach when the error has none yet.

        Returns
        -------
        InstanceError
            A new error with the combined path.
        """
        if not prefix:
            path = self.path
        elif not self.path:
            path = prefix
        elif self.path.startswith("["):
            path = prefix + self.path
        else:
            path = f"{prefix}.{self.path}"
        return InstanceError(path, self.reason, self.source or source)
