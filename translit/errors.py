"""Exceptions the CLI prints as one message, without a traceback."""


class UserError(Exception):
    """Bad input from the user: a file, a line, a recipe key, a run directory.

    The CLI prints the message without a traceback and exits with status ``exit_code``, so
    the message must name what is wrong and say what to do.
    """

    exit_code = 1


class TrainingInterrupted(UserError):
    """A training stopped by a signal, after saving a checkpoint to resume from."""

    def __init__(self, message: str, signal_number: int):
        super().__init__(message)
        self.exit_code = 128 + signal_number  # the shell's convention: 130 for Ctrl-C
