"""Errors that the CLI and the web layer turn into one clear line for the user."""


class PolicyKBError(Exception):
    """Base class: the message is shown to the user as is, on one line."""


class InputFileError(PolicyKBError):
    """A raw input file cannot be read: empty, binary, too large, undecodable, unsupported type."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexError_(PolicyKBError):
    """The index folder is missing, damaged, or was built with different settings."""


class QueryError(PolicyKBError):
    """A query is empty, too long or otherwise unusable."""


class NotFoundError(PolicyKBError):
    """An id (document, clause, region, measure) that the index does not know."""
