"""The log file of a data folder: ``<data_dir>/imon.log``, attached to the ``monitor`` logger.

One process may run several commands against different data folders (a notebook, the test suite, a scheduler
that is reconfigured): the file handler follows the folder of the latest settings instead of staying with the
first one.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["attach_log_file"]


class _LogFile(logging.FileHandler):
    """The platform's file handler (a distinct class, so it is found again and replaced, never doubled)."""


def attach_log_file(logger: logging.Logger, data_dir: Path, level: str | int, fmt: logging.Formatter) -> Path:
    """Log ``logger`` to ``data_dir/imon.log`` at ``level``, replacing a handler of another folder.

    Parameters
    ----------
    logger
        The platform's logger (``logging.getLogger("monitor")``).
    data_dir
        The data folder; created when missing.
    level, fmt
        Level and formatter of the file handler.

    Returns
    -------
    Path
        The log file.

    Raises
    ------
    OSError
        The folder or the file cannot be created (the caller decides whether to go on without a file).
    """
    path = (Path(data_dir) / "imon.log").resolve()
    for handler in list(logger.handlers):
        if isinstance(handler, _LogFile):
            if Path(handler.baseFilename) == path:
                handler.setLevel(level)
                return path
            logger.removeHandler(handler)
            handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _LogFile(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(fmt)
    logger.addHandler(handler)
    return path
