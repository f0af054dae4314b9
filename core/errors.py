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


class IngestError(AskVideoError):
    """A video cannot be ingested for a reason the user can act on; retrying will not help."""


class NothingSaid(IngestError):
    """A video with no speech and no captions: it can still be searched by the text on its screen."""


class TransientIngestError(AskVideoError):
    """A failure worth retrying (network, a busy service); after the last retry it is shown as is."""


class VideoNotFound(AskVideoError):
    def __init__(self, message: str = "That video does not exist or is not yours.") -> None:
        super().__init__(message)


class GroupNotFound(AskVideoError):
    def __init__(self, message: str = "That group does not exist or is not yours.") -> None:
        super().__init__(message)


class AnswerNotRatable(AskVideoError):
    """An answer that is not the rater's to rate, or no answer at all: the two look alike."""

    def __init__(self) -> None:
        super().__init__("That answer cannot be rated from here.")


class Refused(AskVideoError):
    """A request to one of our HTTP routes (media, uploads) that is not allowed; `status` is the
    HTTP status that says why (403 no right, 404 nothing there, 413 too large …)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
