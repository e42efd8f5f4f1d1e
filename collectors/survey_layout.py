"""The monthly survey workbook's layout: sheets, cells, questions, answer wordings (bilingual).

One place defines the layout; :mod:`collectors.survey_template` writes it and
:mod:`collectors.survey` reads it, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SHEET_QUESTIONS", "SHEET_OPERATIONS", "SHEET_PROBLEMS", "SHEET_HELP", "HEADER_FIELDS", "QuestionText",
    "QUESTION_TEXTS", "ANSWER_SETS", "answer_options", "OPERATION_FIELDS", "STATUS_OPTIONS", "PROBLEM_TEXTS",
    "TICK", "CSV_COLUMNS", "CODE_HEADER", "FIRST_HEADER_ROW",
]

SHEET_QUESTIONS = "问卷 Questionnaire"
SHEET_OPERATIONS = "经营数据 Operations"
SHEET_PROBLEMS = "主要问题 Problems"
SHEET_HELP = "填报说明 Instructions"

#: (field, label) of the identification block at the top of the questionnaire, column A labels / column B values.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("uscc", "统一社会信用代码 Unified social credit code"),
    ("name", "企业名称 Enterprise name"),
    ("period", "调查月份 Survey month (YYYY-MM)"),
    ("submitted_at", "填报日期 Date completed (YYYY-MM-DD)"),
    ("respondent", "填报人 Respondent"),
    ("telephone", "联系电话 Telephone"),
)
FIRST_HEADER_ROW = 3
CODE_HEADER = "代码 Code"


@dataclass(frozen=True)
class QuestionText:
    code: str
    zh: str
    en: str
    answers: str  # key of ANSWER_SETS


QUESTION_TEXTS: tuple[QuestionText, ...] = (
    QuestionText("production", "本月生产量比上月", "Output this month compared with last month", "change"),
    QuestionText("new_orders", "本月产品订货量比上月", "New orders this month compared with last month", "change"),
    QuestionText("new_export_orders", "本月新出口订货量比上月", "New export orders compared with last month", "change"),
    QuestionText("backlog_orders", "本月末在手订货量比上月末", "Orders in hand at month end compared with last month", "change"),
    QuestionText("finished_goods_inventory", "本月末产成品库存比上月末", "Finished-goods stocks at month end vs last month", "change"),
    QuestionText("purchase_quantity", "本月主要原材料采购量比上月", "Quantity of purchases compared with last month", "change"),
    QuestionText("imports", "本月主要原材料进口量比上月", "Imports of materials compared with last month", "change"),
    QuestionText("input_prices", "本月主要原材料平均购进价格比上月", "Average input prices compared with last month", "price"),
    QuestionText("output_prices", "本月主要产品平均出厂价格比上月", "Average ex-factory prices compared with last month", "price"),
    QuestionText("raw_materials_inventory", "本月末主要原材料库存比上月末", "Stocks of materials at month end vs last month", "change"),
    QuestionText("employment", "本月从业人员比上月", "Number of employees compared with last month", "change"),
    QuestionText("supplier_delivery_time", "本月供应商交货时间比上月", "Suppliers' delivery times compared with last month", "delivery"),
    QuestionText("expectations", "未来三个月生产经营活动预计", "Business activity expected over the next three months", "outlook"),
)

#: Answer wordings: value -> text shown in the drop-down ("中文 English").
ANSWER_SETS: dict[str, dict[int, str]] = {
    "change": {1: "增加 Higher", 0: "持平 Same", -1: "减少 Lower"},
    "price": {1: "上升 Higher", 0: "持平 Same", -1: "下降 Lower"},
    "delivery": {1: "加快 Faster", 0: "持平 Same", -1: "放慢 Slower"},
    "outlook": {1: "增长 Better", 0: "持平 Same", -1: "下降 Worse"},
}


def answer_options(code: str) -> dict[int, str]:
    """The drop-down texts of one question, by answer value."""
    key = next(q.answers for q in QUESTION_TEXTS if q.code == code)
    return ANSWER_SETS[key]


#: (code, label, unit, kind) of the operations sheet; kind is "number", "percent" or "status".
OPERATION_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("electricity_kwh", "本月用电量 Electricity used this month", "千瓦时 kWh", "number"),
    ("output_value", "工业总产值 Gross output value", "万元 10k yuan", "number"),
    ("sales_value", "销售产值 Sales value", "万元 10k yuan", "number"),
    ("finished_goods_inventory", "产成品库存 Finished-goods inventory", "万元 10k yuan", "number"),
    ("raw_material_cost", "原材料成本 Raw-material costs", "万元 10k yuan", "number"),
    ("labour_cost", "人工成本 Labour costs", "万元 10k yuan", "number"),
    ("energy_cost", "能源成本 Energy costs", "万元 10k yuan", "number"),
    ("other_cost", "其他成本 Other costs", "万元 10k yuan", "number"),
    ("production_status", "生产状态 Production status", "", "status"),
    ("capacity_utilisation", "产能利用率 Capacity utilisation", "% ", "percent"),
)

STATUS_OPTIONS: dict[str, str] = {"normal": "正常生产 Normal", "semi_stopped": "半停产 Semi-stopped",
                                  "stopped": "停产 Stopped"}

#: (code, text) of the "main problems" ticks.
PROBLEM_TEXTS: tuple[tuple[str, str], ...] = (
    ("insufficient_demand", "市场需求不足 Insufficient demand"),
    ("high_raw_material_cost", "原材料成本高 High raw-material costs"),
    ("high_labour_cost", "劳动力成本高 High labour costs"),
    ("labour_shortage", "劳动力供应不足 Labour shortage"),
    ("high_logistics_cost", "物流成本高 High logistics costs"),
    ("tight_funding", "资金紧张 Tight funding"),
    ("energy_supply", "水电气供应紧张 Energy supply shortage"),
    ("trade_frictions", "国际贸易摩擦 International trade frictions"),
)
TICK = "是 Yes"

#: The CSV export of the same layout: one row per answer, figure or tick.
CSV_COLUMNS = ("uscc", "period", "submitted_at", "section", "code", "value")
