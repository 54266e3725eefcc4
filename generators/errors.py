"""Exceptions that the CLI turns into one-line messages with exit code 2."""


class UsageError(ValueError):
    """The user asked for something that cannot be done as stated (bad argument, file, manifest)."""
