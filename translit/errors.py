"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """Bad input from the user: a file, a line, a recipe key, a run directory.

    The CLI prints the message without a traceback and exits with status 1, so the
    message must name what is wrong and say what to do.
    """
