"""Read filled survey workbooks (xlsx) and their CSV export into validated frames.

The reader is strict about the structure (the questionnaire sheet, the code and
answer columns, a valid credit code and month: otherwise the whole file is
refused with a :class:`CollectorError` naming sheet and cell) and lenient about
rows (a bad answer or figure rejects that item only, reported as an
:class:`Issue` with sheet, row and rule).  A blank answer is item non-response,
not an error.  Rows are found by their code, so reordered rows still read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .base import Collected, Issue, decode_bytes, file_sha256
from .exceptions import CollectorError, InvalidCodeError
from .limits import Limits, check_text_size, guarded, limits_for, refuse
from .survey_layout import (
    CSV_COLUMNS,
    HEADER_FIELDS,
    OPERATION_FIELDS,
    PROBLEM_TEXTS,
    QUESTION_TEXTS,
    SHEET_OPERATIONS,
    SHEET_PROBLEMS,
    SHEET_QUESTIONS,
    STATUS_OPTIONS,
    TICK,
    answer_options,
)
from .uscc import validate_uscc

__all__ = ["read_survey_workbook", "read_survey_csv", "read_survey_form", "parse_answer", "is_survey_csv_header"]

_QUESTIONS = {q.code for q in QUESTION_TEXTS}
_OPERATIONS = {code: kind for code, _, _, kind in OPERATION_FIELDS}
_PROBLEMS = {code for code, _ in PROBLEM_TEXTS}
_NO_TICK = {"", "否", "no", "n", "0", "false", "none"}
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


def _answer_lookup(code: str) -> dict[str, int]:
    table: dict[str, int] = {}
    for value, text in answer_options(code).items():
        zh, en = text.split(" ", 1)
        for key in (text, zh, en, str(value), f"{value:+d}"):
            table[key.lower()] = value
    table["不变"] = 0
    return table


_ANSWERS = {q.code: _answer_lookup(q.code) for q in QUESTION_TEXTS}
_STATUS = {}
for _code, _text in STATUS_OPTIONS.items():
    _zh, _en = _text.split(" ", 1)
    for _key in (_text, _zh, _en, _code):
        _STATUS[_key.lower()] = _code


def parse_answer(code: str, raw: object) -> int | None:
    """Answer value for a cell (full option text, its Chinese or English part, or -1/0/1); None when unknown."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw in (-1, 0, 1):
        return int(raw)
    return _ANSWERS[code].get(str(raw).strip().lower())


def _month(raw: object) -> str | None:
    if isinstance(raw, (dt.date, dt.datetime)):
        return f"{raw.year:04d}-{raw.month:02d}"
    m = _MONTH.match(str(raw or ""))
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return None


def _date(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw or "").strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if re.match(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ T]\d{1,2}:\d{2}", text):  # a date with a time of day
        parsed = pd.to_datetime(text.replace("/", "-").replace(".", "-"), errors="coerce")
        return None if pd.isna(parsed) else parsed.date()
    return None


def _number(raw: object) -> float | None:
    """A finite number, or None (text, ``inf``, ``nan`` and booleans are not figures)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    text = str(raw).strip().replace(",", "").rstrip("%")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None  # "inf", "nan" or 400 digits are not figures


def _blank(raw: object) -> bool:
    return raw is None or str(raw).strip() == ""


class _Sink:
    """Collects rows of the three tables and the issues while a file is read."""

    def __init__(self, path: Path, sha256: str | None = None) -> None:
        self.path = path
        self.sha256 = sha256
        self.answers: list[tuple[Any, ...]] = []
        self.operations: dict[tuple[str, str], dict[str, Any]] = {}
        self.problems: list[tuple[Any, ...]] = []
        self.issues: list[Issue] = []

    def issue(self, rule: str, message: str, *, sheet: str | None, row: int, field: str | None = None,
              value: object = None, severity: str = "error") -> None:
        self.issues.append(Issue(self.path.name, rule, message, severity,  # type: ignore[arg-type]
                                 sheet=sheet, row=row, field=field, value=None if value is None else str(value)))

    def answer(self, uscc: str, period: str, code: str, raw: object, submitted: dt.date | None, sheet: str | None,
               row: int) -> None:
        if code not in _QUESTIONS:
            self.issue("unknown_question", f"question code {code!r} is not one of the 13 PMI questions",
                       sheet=sheet, row=row, field="code", value=code)
            return
        if _blank(raw):
            return  # item non-response
        value = parse_answer(code, raw)
        if value is None:
            allowed = " / ".join(answer_options(code).values())
            self.issue("invalid_answer", f"answer {raw!r} to {code} is not one of: {allowed}", sheet=sheet,
                       row=row, field=code, value=raw)
            return
        self.answers.append((uscc, period, code, value, submitted, row))

    def operation(self, uscc: str, period: str, code: str, raw: object, sheet: str | None, row: int,
                  submitted: dt.date | None = None) -> None:
        kind = _OPERATIONS.get(code)
        if kind is None:
            self.issue("unknown_item", f"operations code {code!r} is unknown", sheet=sheet, row=row, field="code",
                       value=code)
            return
        if _blank(raw):
            return
        record = self.operations.setdefault((uscc, period), {"source_row": row, "submitted_on": submitted})
        if kind == "status":
            status = _STATUS.get(str(raw).strip().lower())
            if status is None:
                self.issue("invalid_status", f"production status {raw!r} is not one of "
                           f"{' / '.join(STATUS_OPTIONS.values())}", sheet=sheet, row=row, field=code, value=raw)
                return
            record[code] = status
            return
        number = _number(raw)
        if number is None:
            self.issue("non_numeric", f"{code} {raw!r} is not a finite number", sheet=sheet, row=row, field=code,
                       value=raw)
        elif number < 0:
            self.issue("negative_value", f"{code} {raw!r} is negative", sheet=sheet, row=row, field=code, value=raw)
        elif kind == "percent" and number > 150:
            self.issue("out_of_range", f"{code} {raw!r} is above 150 %", sheet=sheet, row=row, field=code, value=raw)
        else:
            record[code] = number

    def problem(self, uscc: str, period: str, code: str, raw: object, sheet: str | None, row: int) -> None:
        if code not in _PROBLEMS:
            self.issue("unknown_problem", f"problem code {code!r} is unknown", sheet=sheet, row=row, field="code",
                       value=code)
            return
        if str(raw or "").strip().lower() not in _NO_TICK:
            self.problems.append((uscc, period, code, row))

    def check_empty(self, sheet: str | None, row: int) -> None:
        """A warning for a questionnaire without answers and figures (and without errors)."""
        if not self.answers and not self.operations and not any(i.severity == "error" for i in self.issues):
            self.issue("empty_questionnaire", "the questionnaire has no answers and no figures", sheet=sheet,
                       row=row, severity="warning")

    def result(self, kind: str, meta: dict[str, object]) -> Collected:
        sha = self.sha256 if self.sha256 is not None else file_sha256(self.path)
        out = Collected(kind, self.path, sha, issues=self.issues, meta=meta)
        answers = pd.DataFrame(self.answers, columns=["uscc", "period", "question", "answer", "submitted_on",
                                                      "source_row"])
        dup = answers.duplicated(["uscc", "period", "question"], keep=False)
        if dup.any():
            clash = answers[dup].groupby(["uscc", "period", "question"])["answer"].transform("nunique") > 1
            sheet = meta.get("sheet_questions")
            for rec in answers[dup][clash].itertuples():
                self.issue("duplicate_conflict", f"{rec.question} answered more than once with different answers",
                           sheet=sheet if isinstance(sheet, str) else None, row=int(rec.source_row),
                           field=rec.question,
                           value=rec.answer)
            bad = answers[dup][clash].set_index(["uscc", "period", "question"]).index
            answers = answers[~answers.set_index(["uscc", "period", "question"]).index.isin(bad)]
        out.tables["survey_response"] = answers.drop_duplicates(["uscc", "period", "question"]).reset_index(drop=True)
        ops = pd.DataFrame([{"uscc": u, "period": p, **rec} for (u, p), rec in self.operations.items()],
                           columns=["uscc", "period", *[c for c, *_ in OPERATION_FIELDS], "submitted_on", "source_row"])
        out.tables["enterprise_month"] = ops
        out.tables["survey_problem"] = pd.DataFrame(self.problems, columns=["uscc", "period", "problem",
                                                                            "source_row"]).drop_duplicates(
            ["uscc", "period", "problem"])
        return out


def _find_sheet(wb: Any, wanted: str) -> Any | None:
    zh, en = wanted.split(" ", 1)
    for ws in wb.worksheets:
        title = ws.title.strip()
        if title == wanted or title.startswith(zh) or title.lower().startswith(en.lower()):
            return ws
    return None


def _header_columns(rows: list[tuple[Any, ...]], sheet: str, path: Path, needed: dict[str, tuple[str, ...]],
                    start: int = 0) -> tuple[int, dict[str, int]]:
    """Find the header row holding a 'code' column and the other needed columns."""
    for r in range(start, len(rows)):
        cells = [str(c).strip().lower() if c is not None else "" for c in rows[r]]
        if not any(c.startswith("代码") or c == "code" for c in cells):
            continue
        found = {}
        for name, keys in needed.items():
            col = next((i for i, c in enumerate(cells) if any(c.startswith(k) or c.endswith(k) for k in keys)), None)
            if col is None:
                shown = [str(c) for c in rows[r] if c is not None]
                raise CollectorError(
                    f"{path.name} [{sheet}] row {r + 1}: no column headed {' / '.join(keys)} (found {shown}); "
                    "the column was renamed or deleted: use the workbook from `imon survey template`"
                )
            found[name] = col
        return r, found
    raise CollectorError(f"{path.name} [{sheet}]: no header row with a 代码 Code column; use the workbook from "
                         "`imon survey template` without changing its layout")


@guarded
def read_survey_workbook(path: Path, *, limits: Limits | None = None) -> Collected:
    """Read one filled survey workbook.

    Returns
    -------
    Collected
        ``tables``: ``survey_response`` (uscc, period, question, answer,
        submitted_on, source_row), ``enterprise_month`` (uscc, period, the
        operations fields, source_row) and ``survey_problem``; ``meta`` holds
        the credit code, month, completion date and respondent.

    Raises
    ------
    CollectorError
        Not a readable xlsx, no questionnaire sheet, a renamed column, or an
        invalid credit code or month in the header block.
    """
    from ._xlsx import open_workbook, sheet_rows

    path = Path(path)
    limits = limits or limits_for("survey")
    wb = open_workbook(path, limits=limits)
    try:
        ws = _find_sheet(wb, SHEET_QUESTIONS)
        if ws is None:
            raise CollectorError(
                f"{path.name}: no sheet {SHEET_QUESTIONS!r} (sheets: {', '.join(wb.sheetnames)}); this is not the "
                "survey workbook, or the sheet was renamed: use the one from `imon survey template`"
            )
        rows = list(sheet_rows(ws, path, limits))
        header: dict[str, object] = {}
        for key, label in HEADER_FIELDS:
            zh = label.split(" ", 1)[0]
            hit = next((r for r in range(min(len(rows), 20)) if rows[r] and str(rows[r][0] or "").startswith(zh)),
                       None)
            header[key] = rows[hit][1] if hit is not None and len(rows[hit]) > 1 else None
            header[key + "_row"] = None if hit is None else hit + 1
        try:
            uscc = validate_uscc(str(header["uscc"] or ""))
        except InvalidCodeError as exc:
            raise CollectorError(f"{path.name} [{ws.title}] row {header['uscc_row']}: {exc}; the credit code "
                                 "cell is prefilled: do not change it") from None
        period = _month(header["period"])
        if period is None:
            raise CollectorError(f"{path.name} [{ws.title}] row {header['period_row']}: survey month "
                                 f"{header['period']!r} is not YYYY-MM; it is prefilled: do not change it")
        submitted = _date(header["submitted_at"])
        sink = _Sink(path)
        if not _blank(header["submitted_at"]) and submitted is None:
            row = header["submitted_at_row"]
            sink.issue("bad_date", f"completion date {header['submitted_at']!r} is not a date; the receipt time is "
                       "used instead", sheet=ws.title, row=row if isinstance(row, int) else 0,
                       field="submitted_at", value=header["submitted_at"], severity="warning")
        r0, cols = _header_columns(rows, ws.title, path, {"code": ("代码", "code"), "answer": ("回答", "answer")})
        for r in range(r0 + 1, len(rows)):
            row = rows[r]
            code = row[cols["code"]] if len(row) > cols["code"] else None
            if _blank(code):
                continue
            raw = row[cols["answer"]] if len(row) > cols["answer"] else None
            sink.answer(uscc, period, str(code).strip(), raw, submitted, ws.title, r + 1)
        meta: dict[str, object] = {"uscc": uscc, "period": period, "submitted_on": submitted,
                                   "respondent": header.get("respondent"), "sheet_questions": ws.title}
        ops = _find_sheet(wb, SHEET_OPERATIONS)
        if ops is None:
            sink.issue("missing_sheet", f"no sheet {SHEET_OPERATIONS!r}: operating figures not reported",
                       sheet=None, row=0, severity="warning")
        else:
            orows = list(sheet_rows(ops, path, limits))
            h, oc = _header_columns(orows, ops.title, path, {"code": ("代码", "code"), "value": ("数值", "value")})
            for r in range(h + 1, len(orows)):
                code = orows[r][oc["code"]] if len(orows[r]) > oc["code"] else None
                if not _blank(code):
                    raw = orows[r][oc["value"]] if len(orows[r]) > oc["value"] else None
                    sink.operation(uscc, period, str(code).strip(), raw, ops.title, r + 1, submitted)
        prob = _find_sheet(wb, SHEET_PROBLEMS)
        if prob is not None:
            prob_rows = list(sheet_rows(prob, path, limits))
            h, pc = _header_columns(prob_rows, prob.title, path,
                                    {"code": ("代码", "code"), "tick": ("勾选", "tick")})
            for r in range(h + 1, len(prob_rows)):
                code = prob_rows[r][pc["code"]] if len(prob_rows[r]) > pc["code"] else None
                if not _blank(code):
                    tick = prob_rows[r][pc["tick"]] if len(prob_rows[r]) > pc["tick"] else None
                    sink.problem(uscc, period, str(code).strip(), tick, prob.title, r + 1)
    finally:
        wb.close()
    sink.check_empty(ws.title, r0 + 1)
    return sink.result("survey", meta)


def read_survey_form(uscc: str, period: str, answers: Mapping[str, object], figures: Mapping[str, object],
                     ticked: Iterable[str], *, submitted: dt.date | None, name: str, sha256: str) -> Collected:
    """Read a questionnaire filled in a web form with the same item rules as a workbook row.

    ``answers`` maps question codes to answers (a value or any wording the
    workbook accepts; blank is item non-response), ``figures`` operations codes
    to raw text, ``ticked`` the main problems ticked.  Issues carry the field
    code; ``row`` is the item's position in the form.  ``name`` stands for the
    file name in issues and provenance.

    Raises
    ------
    CollectorError
        An invalid credit code or month (the caller's, never the respondent's input).
    """
    try:
        uscc = validate_uscc(uscc)
    except InvalidCodeError as exc:
        raise CollectorError(f"{name}: {exc}") from None
    month = _month(period)
    if month is None:
        raise CollectorError(f"{name}: survey month {period!r} is not YYYY-MM")
    sink = _Sink(Path(name), sha256=sha256)
    for row, q in enumerate(QUESTION_TEXTS, start=1):
        sink.answer(uscc, month, q.code, answers.get(q.code), submitted, None, row)
    for code in answers.keys() - _QUESTIONS:
        sink.answer(uscc, month, code, answers[code], submitted, None, 0)
    for row, (code, *_rest) in enumerate(OPERATION_FIELDS, start=1):
        sink.operation(uscc, month, code, figures.get(code), None, row, submitted)
    for code in figures.keys() - _OPERATIONS.keys():
        sink.operation(uscc, month, code, figures[code], None, 0, submitted)
    ticks = set(ticked)
    for row, (code, _) in enumerate(PROBLEM_TEXTS, start=1):
        sink.problem(uscc, month, code, TICK if code in ticks else "", None, row)
    for code in sorted(ticks - _PROBLEMS):
        sink.problem(uscc, month, code, TICK, None, 0)
    sink.check_empty(None, 1)
    return sink.result("survey", {"uscc": uscc, "period": month, "submitted_on": submitted, "sheet_questions": None})


def is_survey_csv_header(header: list[str]) -> bool:
    """True for the header of the survey CSV export."""
    return [h.strip().lstrip("\ufeff").lower() for h in header[: len(CSV_COLUMNS)]] == list(CSV_COLUMNS)


@guarded
def read_survey_csv(path: Path, *, encoding: str | None = None, limits: Limits | None = None) -> Collected:
    """Read the CSV export of the survey layout (``uscc,period,submitted_at,section,code,value``).

    One file may hold many enterprises and months.  A row with an invalid
    credit code or month is rejected (an :class:`Issue`), the others are kept.
    """
    path = Path(path)
    limits = limits or limits_for("survey")
    check_text_size(path, limits)
    text, enc = decode_bytes(path.read_bytes(), path, encoding)
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > limits.max_rows:
        raise refuse(path, limits, "rows", f"{len(rows):,} lines")
    if not rows:
        raise CollectorError(f"{path.name}: the file is empty")
    if not is_survey_csv_header(rows[0]):
        raise CollectorError(f"{path.name}: header {rows[0]!r} is not the survey export's; expected "
                             f"{','.join(CSV_COLUMNS)}")
    sink = _Sink(path)
    undated: set[tuple[str, str]] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        rec = dict(zip(CSV_COLUMNS, [c.strip() for c in row] + [""] * (len(CSV_COLUMNS) - len(row))))
        try:
            uscc = validate_uscc(rec["uscc"])
        except InvalidCodeError as exc:
            sink.issue("invalid_uscc", str(exc), sheet=None, row=n, field="uscc", value=rec["uscc"])
            continue
        period = _month(rec["period"])
        if period is None:
            sink.issue("bad_period", f"period {rec['period']!r} is not YYYY-MM", sheet=None, row=n, field="period",
                       value=rec["period"])
            continue
        submitted = _date(rec["submitted_at"])
        if submitted is None and rec["submitted_at"] and (uscc, period) not in undated:
            undated.add((uscc, period))
            sink.issue("bad_date", f"submitted_at {rec['submitted_at']!r} is not a date; the receipt time is used "
                       "instead", sheet=None, row=n, field="submitted_at", value=rec["submitted_at"],
                       severity="warning")
        section = rec["section"].lower()
        if section == "question":
            sink.answer(uscc, period, rec["code"], rec["value"], submitted, None, n)
        elif section == "operations":
            sink.operation(uscc, period, rec["code"], rec["value"], None, n, submitted)
        elif section == "problem":
            sink.problem(uscc, period, rec["code"], rec["value"], None, n)
        else:
            sink.issue("unknown_section", f"section {rec['section']!r} is not question, operations or problem",
                       sheet=None, row=n, field="section", value=rec["section"])
    if len(rows) < 2:
        raise CollectorError(f"{path.name}: the file has a header but no rows")
    return sink.result("survey", {"encoding": enc})
