"""Ingestion: what the collectors read goes into the store, validated, idempotent, atomic per file."""

from .common import FileOutcome as FileOutcome
from .common import finish_source as finish_source
from .common import new_source as new_source
from .common import write_issues as write_issues
from .files import check_paths as check_paths
from .files import collect_paths as collect_paths
from .files import expand_paths as expand_paths
from .files import identify as identify
from .report import collect_report as collect_report
from .survey import SurveyFile as SurveyFile
from .survey import ingest_survey as ingest_survey
from .survey import survey_window as survey_window

__all__ = ["FileOutcome", "collect_paths", "check_paths", "expand_paths", "identify", "collect_report", "new_source", "finish_source",
           "write_issues", "ingest_survey", "SurveyFile", "survey_window"]
