"""Reference data: districts, industries, key sectors, size classes, survey questions.

These tables are small, fixed by standards, and loaded into every new store.

Sources
-------
- Districts: the 11 districts of Guangzhou and their GB/T 2260 codes after the
  2014 reform (Luogang merged into Huangpu; Conghua and Zengcheng became
  districts 440117 and 440118).
- Industries: GB/T 4754-2017, section C (manufacturing), divisions 13-43.
- Key sectors: the city's manufacturing plan (autos, electronics and IT,
  petrochemicals as pillars; equipment, biomedicine, new materials; consumer
  goods), mapped to divisions.  High-tech manufacturing is approximated at
  division level (27, 37, 39, 40); the official definition works on classes.
- Size classes: 统计上大中小微型企业划分办法(2017), industry thresholds.
- Questions: the 13 questions of the NBS manufacturing PMI survey and the
  headline weights (METHODOLOGY section 1.5).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CITY_CODE",
    "DISTRICTS",
    "INDUSTRIES",
    "KEY_SECTORS",
    "SIZE_CLASSES",
    "QUESTIONS",
    "HEADLINE_WEIGHTS",
    "PROBLEMS",
    "PRODUCTION_STATUSES",
    "District",
    "Industry",
    "KeySector",
    "SizeClass",
    "Question",
    "region_series_key",
]

#: Administrative code of Guangzhou (the city-level region in the store).
CITY_CODE = "440100"


def region_series_key(key: str, region: str) -> str:
    """The series key of ``key`` for ``region``: itself for the city, else ``.../district/<region>``.

    ``pmi/headline`` -> ``pmi/headline/district/440103``; ``electricity/yoy/city`` ->
    ``electricity/yoy/district/440103`` (a ``/city`` suffix is replaced).
    """
    if region == CITY_CODE:
        return key
    base = key[: -len("/city")] if key.endswith("/city") else key
    return f"{base}/district/{region}"


@dataclass(frozen=True)
class District:
    code: str
    name_zh: str
    name_en: str


DISTRICTS: tuple[District, ...] = (
    District("440103", "荔湾区", "Liwan"),
    District("440104", "越秀区", "Yuexiu"),
    District("440105", "海珠区", "Haizhu"),
    District("440106", "天河区", "Tianhe"),
    District("440111", "白云区", "Baiyun"),
    District("440112", "黄埔区", "Huangpu"),
    District("440113", "番禺区", "Panyu"),
    District("440114", "花都区", "Huadu"),
    District("440115", "南沙区", "Nansha"),
    District("440117", "从化区", "Conghua"),
    District("440118", "增城区", "Zengcheng"),
)


@dataclass(frozen=True)
class Industry:
    code: str
    name_zh: str
    name_en: str


INDUSTRIES: tuple[Industry, ...] = (
    Industry("13", "农副食品加工业", "Agricultural and sideline food processing"),
    Industry("14", "食品制造业", "Food manufacturing"),
    Industry("15", "酒、饮料和精制茶制造业", "Liquor, beverages and refined tea"),
    Industry("16", "烟草制品业", "Tobacco products"),
    Industry("17", "纺织业", "Textiles"),
    Industry("18", "纺织服装、服饰业", "Textile garments and apparel"),
    Industry("19", "皮革、毛皮、羽毛及其制品和制鞋业", "Leather, fur, feather products and footwear"),
    Industry("20", "木材加工和木、竹、藤、棕、草制品业", "Wood, bamboo, rattan, palm and straw products"),
    Industry("21", "家具制造业", "Furniture"),
    Industry("22", "造纸和纸制品业", "Paper and paper products"),
    Industry("23", "印刷和记录媒介复制业", "Printing and reproduction of recording media"),
    Industry("24", "文教、工美、体育和娱乐用品制造业", "Culture, education, arts, sports and entertainment goods"),
    Industry("25", "石油、煤炭及其他燃料加工业", "Petroleum, coal and other fuel processing"),
    Industry("26", "化学原料和化学制品制造业", "Chemical raw materials and chemical products"),
    Industry("27", "医药制造业", "Pharmaceuticals"),
    Industry("28", "化学纤维制造业", "Chemical fibres"),
    Industry("29", "橡胶和塑料制品业", "Rubber and plastic products"),
    Industry("30", "非金属矿物制品业", "Non-metallic mineral products"),
    Industry("31", "黑色金属冶炼和压延加工业", "Smelting and pressing of ferrous metals"),
    Industry("32", "有色金属冶炼和压延加工业", "Smelting and pressing of non-ferrous metals"),
    Industry("33", "金属制品业", "Metal products"),
    Industry("34", "通用设备制造业", "General-purpose machinery"),
    Industry("35", "专用设备制造业", "Special-purpose machinery"),
    Industry("36", "汽车制造业", "Automobiles"),
    Industry("37", "铁路、船舶、航空航天和其他运输设备制造业", "Railway, ships, aerospace and other transport equipment"),
    Industry("38", "电气机械和器材制造业", "Electrical machinery and equipment"),
    Industry("39", "计算机、通信和其他电子设备制造业", "Computers, communication and other electronic equipment"),
    Industry("40", "仪器仪表制造业", "Instruments and meters"),
    Industry("41", "其他制造业", "Other manufacturing"),
    Industry("42", "废弃资源综合利用业", "Comprehensive use of waste resources"),
    Industry("43", "金属制品、机械和设备修理业", "Repair of metal products, machinery and equipment"),
)


@dataclass(frozen=True)
class KeySector:
    code: str
    name_zh: str
    name_en: str
    divisions: tuple[str, ...]


KEY_SECTORS: tuple[KeySector, ...] = (
    KeySector("autos", "汽车制造", "Automobiles", ("36",)),
    KeySector("electronics_it", "电子信息制造", "Electronics and IT", ("39",)),
    KeySector("petrochemicals", "石油化工", "Petrochemicals", ("25", "26", "28", "29")),
    KeySector("equipment", "装备制造", "Equipment manufacturing", ("34", "35", "37", "38", "40", "43")),
    KeySector("biomedicine", "生物医药", "Biomedicine", ("27",)),
    KeySector("new_materials", "新材料", "New materials", ("30", "32", "33")),
    KeySector("consumer_goods", "消费品工业", "Consumer goods",
              ("13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24")),
    KeySector("high_tech", "高技术制造业", "High-tech manufacturing", ("27", "37", "39", "40")),
)


@dataclass(frozen=True)
class SizeClass:
    code: str
    name_zh: str
    name_en: str
    min_employees: int
    min_revenue_10k_yuan: float
    rank: int


#: Industry thresholds of 统计上大中小微型企业划分办法(2017): a class needs both minima.
SIZE_CLASSES: tuple[SizeClass, ...] = (
    SizeClass("large", "大型", "Large", 1000, 40000.0, 1),
    SizeClass("medium", "中型", "Medium", 300, 2000.0, 2),
    SizeClass("small", "小型", "Small", 20, 300.0, 3),
    SizeClass("micro", "微型", "Micro", 0, 0.0, 4),
)


@dataclass(frozen=True)
class Question:
    code: str
    name_zh: str
    name_en: str
    positive_zh: str
    positive_en: str
    headline_weight: float
    inverted: bool
    rank: int


QUESTIONS: tuple[Question, ...] = (
    Question("production", "生产", "Production", "增加", "higher", 0.25, False, 1),
    Question("new_orders", "新订单", "New orders", "增加", "higher", 0.30, False, 2),
    Question("new_export_orders", "新出口订单", "New export orders", "增加", "higher", 0.0, False, 3),
    Question("backlog_orders", "在手订单", "Backlog of orders", "增加", "higher", 0.0, False, 4),
    Question("finished_goods_inventory", "产成品库存", "Finished-goods inventory", "增加", "higher", 0.0, False, 5),
    Question("purchase_quantity", "采购量", "Quantity of purchases", "增加", "higher", 0.0, False, 6),
    Question("imports", "进口", "Imports", "增加", "higher", 0.0, False, 7),
    Question("input_prices", "主要原材料购进价格", "Input prices", "上升", "higher", 0.0, False, 8),
    Question("output_prices", "出厂价格", "Output prices", "上升", "higher", 0.0, False, 9),
    Question("raw_materials_inventory", "原材料库存", "Raw-materials inventory", "增加", "higher", 0.10, False, 10),
    Question("employment", "从业人员", "Employment", "增加", "higher", 0.20, False, 11),
    Question("supplier_delivery_time", "供应商配送时间", "Suppliers' delivery time", "加快", "faster", 0.15, True, 12),
    Question("expectations", "生产经营活动预期", "Business expectations", "增长", "better", 0.0, False, 13),
)

#: Headline PMI weights; supplier delivery time enters as 100 - DI.
HEADLINE_WEIGHTS: dict[str, float] = {q.code: q.headline_weight for q in QUESTIONS if q.headline_weight}

#: "Main problems" an enterprise may tick on the questionnaire.
PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("insufficient_demand", "市场需求不足", "Insufficient demand"),
    ("high_raw_material_cost", "原材料成本高", "High raw-material costs"),
    ("high_labour_cost", "劳动力成本高", "High labour costs"),
    ("labour_shortage", "劳动力供应不足", "Labour shortage"),
    ("high_logistics_cost", "物流成本高", "High logistics costs"),
    ("tight_funding", "资金紧张", "Tight funding"),
    ("energy_supply", "水电气供应紧张", "Energy supply shortage"),
    ("trade_frictions", "国际贸易摩擦", "International trade frictions"),
)

#: Production status codes of ``enterprise_month.production_status``.
PRODUCTION_STATUSES: tuple[tuple[str, str, str], ...] = (
    ("normal", "正常生产", "Normal"),
    ("semi_stopped", "半停产", "Semi-stopped"),
    ("stopped", "停产", "Stopped"),
)
