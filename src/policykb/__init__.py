"""policykb: a knowledge base of Chinese local education policy."""

import logging

__version__ = "0.1.0"


class _BelowWarning(logging.Filter):
    """jieba logs "Building prefix dict…" at DEBUG to its own stderr handler, and sets its level at import: a
    filter on its logger outlives that, so the CLI's stderr carries only what a user should read."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


logging.getLogger("jieba").addFilter(_BelowWarning())
