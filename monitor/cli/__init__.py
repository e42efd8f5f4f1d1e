"""The ``imon`` command line: a thin shell over the library.

Exit status: 0 success; 1 the work ran but found problems; 2 usage or
configuration error (one line on stderr naming the problem and the fix).

The group, the shared helpers and :func:`main` are in ``_app``; each module beside it adds one family of
commands to the group when imported here.
"""

from __future__ import annotations

from ..web.cli import register as _register_web
from . import _admin, _alerts, _collect, _demo, _publish, _stages  # noqa: F401  (each registers its commands)
from ._app import cli, main

_register_web(cli)

__all__ = ["cli", "main"]
