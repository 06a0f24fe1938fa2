"""Logging filters for the settings' LOGGING."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Keep the one-line record of a 4xx answer but drop its traceback.

    Django logs "Forbidden (Permission denied)" with the exception attached; a refused
    request is not a fault of the server, and a traceback per refusal buries real errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
