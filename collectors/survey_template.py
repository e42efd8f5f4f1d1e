"""Write the monthly survey workbook: blank (prefilled with the enterprise) or filled in.

The bureau sends the blank workbook to each sample enterprise
(``imon survey template``); the demo writes filled ones to exercise the real
ingestion path.  Layout: :mod:`collectors.survey_layout`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from .cells import neutralise
from .survey_layout import (
    CODE_HEADER,
    FIRST_HEADER_ROW,
    HEADER_FIELDS,
    OPERATION_FIELDS,
    PROBLEM_TEXTS,
    QUESTION_TEXTS,
    SHEET_HELP,
    SHEET_OPERATIONS,
    SHEET_PROBLEMS,
    SHEET_QUESTIONS,
    STATUS_OPTIONS,
    TICK,
    answer_options,
)

__all__ = ["write_survey_workbook", "question_header_row"]

_HELP = (
    "请于每月25日前填报本问卷并回传。问卷各题均与上月比较；“未来三个月”一题为预期。",
    "Please complete this workbook by the 25th of the survey month and send it back. Every question compares with "
    "the previous month, except the outlook question.",
    "请从下拉列表选择答案，不要修改表格结构、工作表名称和“代码 Code”列。",
    "Choose answers from the drop-down lists; do not rename sheets or change the 'Code' column.",
    "金额单位：万元；用电量单位：千瓦时。 Money in 10,000 yuan; electricity in kWh.",
)


def question_header_row() -> int:
    """Row of the question table's header on the questionnaire sheet."""
    return FIRST_HEADER_ROW + len(HEADER_FIELDS) + 1


def write_survey_workbook(
    path: Path,
    *,
    uscc: str,
    name: str,
    period: str,
    answers: Mapping[str, int] | None = None,
    operations: Mapping[str, object] | None = None,
    problems: Sequence[str] = (),
    submitted_at: dt.date | None = None,
    respondent: str | None = None,
) -> Path:
    """Write one enterprise's workbook for one month.

    Parameters
    ----------
    path
        Output file (``.xlsx``); its folder must exist.
    uscc, name, period
        The enterprise and the month (``YYYY-MM``), prefilled and protected by convention.
    answers
        Question code -> +1/0/-1 for a filled workbook; None leaves the answers blank.
    operations
        Operations-sheet code -> value (``production_status`` takes a status code).
    problems
        Codes of the "main problems" to tick.
    submitted_at, respondent
        Filled-in metadata.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_QUESTIONS
    ws["A1"] = "广州市制造业采购经理调查问卷 Guangzhou Manufacturing Purchasing Managers' Survey"
    ws["A1"].font = Font(bold=True, size=13)
    values = {"uscc": uscc, "name": name, "period": period,
              "submitted_at": submitted_at.isoformat() if submitted_at else None, "respondent": respondent}
    for i, (key, label) in enumerate(HEADER_FIELDS):
        row = FIRST_HEADER_ROW + i
        ws.cell(row, 1, label).font = bold
        cell = ws.cell(row, 2, neutralise(values.get(key)))  # register text: never a live formula
        if key in ("submitted_at", "respondent", "telephone"):
            cell.fill = fill
    head = question_header_row()
    for col, title in enumerate(("序号 No.", CODE_HEADER, "问题 Question", "回答 Answer"), start=1):
        ws.cell(head, col, title).font = bold
    validations: dict[str, DataValidation] = {}
    for i, q in enumerate(QUESTION_TEXTS, start=1):
        row = head + i
        ws.cell(row, 1, i)
        ws.cell(row, 2, q.code)
        ws.cell(row, 3, f"{q.zh} {q.en}").alignment = Alignment(wrap_text=True)
        options = answer_options(q.code)
        cell = ws.cell(row, 4, options[answers[q.code]] if answers and q.code in answers else None)
        cell.fill = fill
        key = q.answers
        if key not in validations:
            dv = DataValidation(type="list", formula1='"' + ",".join(options[v] for v in (1, 0, -1)) + '"',
                                allow_blank=True, showErrorMessage=True,
                                errorTitle="无效回答 Invalid answer", error="请从列表选择 Choose from the list")
            ws.add_data_validation(dv)
            validations[key] = dv
        validations[key].add(cell.coordinate)
    for letter, width in zip("ABCD", (8, 30, 60, 16)):
        ws.column_dimensions[letter].width = width

    ops = wb.create_sheet(SHEET_OPERATIONS)
    for col, title in enumerate(("项目 Item", CODE_HEADER, "数值 Value", "单位 Unit"), start=1):
        ops.cell(1, col, title).font = bold
    status_dv = DataValidation(type="list", formula1='"' + ",".join(STATUS_OPTIONS.values()) + '"', allow_blank=True)
    number_dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    ops.add_data_validation(status_dv)
    ops.add_data_validation(number_dv)
    for i, (code, label, unit, kind) in enumerate(OPERATION_FIELDS, start=2):
        ops.cell(i, 1, label)
        ops.cell(i, 2, code)
        value = (operations or {}).get(code)
        if kind == "status" and value is not None:
            value = STATUS_OPTIONS[str(value)]
        cell = ops.cell(i, 3, neutralise(value))
        cell.fill = fill
        (status_dv if kind == "status" else number_dv).add(cell.coordinate)
        ops.cell(i, 4, unit)
    for letter, width in zip("ABCD", (40, 26, 18, 14)):
        ops.column_dimensions[letter].width = width

    prob = wb.create_sheet(SHEET_PROBLEMS)
    for col, title in enumerate((CODE_HEADER, "问题 Problem", "勾选 Tick"), start=1):
        prob.cell(1, col, title).font = bold
    tick_dv = DataValidation(type="list", formula1=f'"{TICK}"', allow_blank=True)
    prob.add_data_validation(tick_dv)
    ticked = set(problems)
    for i, (code, text) in enumerate(PROBLEM_TEXTS, start=2):
        prob.cell(i, 1, code)
        prob.cell(i, 2, text)
        cell = prob.cell(i, 3, TICK if code in ticked else None)
        cell.fill = fill
        tick_dv.add(cell.coordinate)
    for letter, width in zip("ABC", (26, 44, 12)):
        prob.column_dimensions[letter].width = width

    helps = wb.create_sheet(SHEET_HELP)
    for i, line in enumerate(_HELP, start=1):
        helps.cell(i, 1, line)
    helps.column_dimensions["A"].width = 120
    wb.save(path)
    return path
