"""Ingestion: what the collectors read goes into the store, validated, idempotent, atomic per file."""

from .common import FileOutcome as FileOutcome
from .files import check_paths as check_paths
from .files import collect_paths as collect_paths
from .files import expand_paths as expand_paths
from .files import identify as identify
from .report import collect_report as collect_report

__all__ = ["FileOutcome", "collect_paths", "check_paths", "expand_paths", "identify", "collect_report"]
