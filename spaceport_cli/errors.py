"""What the client reports instead of a traceback, with the exit code scripts can branch on."""

from __future__ import annotations

# Exit codes: 2 is argparse's own for a bad command line, so the client's start at 3.
USAGE = 2
CONFIGURATION = 3
REFUSED = 4
UNREACHABLE = 5
UNSUITED = 6


class ClientError(Exception):
    """A failure the person can fix, said in one sentence that never holds the token or a secret."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
