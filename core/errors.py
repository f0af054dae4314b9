"""Errors a user can cause, each with a message written for that user.

Pages catch `AskVideoError`, show its message and stop; anything else is a bug and is logged.
"""


class AskVideoError(Exception):
    """Base of every user-facing error; `str(error)` is the message to show."""


class SignUpError(AskVideoError):
    pass


class InvalidCredentials(AskVideoError):
    def __init__(self, message: str = "Wrong username/email or password.") -> None:
        super().__init__(message)


class SettingsError(AskVideoError):
    pass
