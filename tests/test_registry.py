"""The collector registry: every kind the ingest knows has a collector, and files are told apart by it alone."""

from __future__ import annotations

import pytest

import collectors
from collectors.exceptions import CollectorError
from collectors.survey_template import write_survey_workbook
from monitor.ingest.files import KINDS, identify


def test_every_ingested_kind_has_one_collector_with_a_reader():
    kinds = [c.kind for c in collectors.COLLECTORS]
    assert sorted(kinds) == sorted(KINDS) and len(set(kinds)) == len(kinds)
    for kind in KINDS:
        c = collectors.get(kind)
        assert (c.read is None) != (c.stream is None), kind  # read whole, or streamed
    with pytest.raises(KeyError, match="no collector reads 'pdf'"):
        collectors.get("pdf")


@pytest.mark.parametrize(("name", "text", "kind"), [
    ("answers.csv", "uscc,period,submitted_at,section,code,value\n", "survey"),
    ("feed.csv", "户号,日期,用电量\n0001,2024-01-01,12.5\n", "electricity"),
    ("accounts.csv", "account_no,uscc\n0001,91440101MA59XXXX0X\n", "electricity_accounts"),
    ("tidy.csv", "series,region,period,value\niva/yoy,440100,2024-01,5.1\n", "official"),
])
def test_text_files_are_identified_through_the_registry(tmp_path, name, text, kind):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    assert collectors.identify(path) == kind == identify(path)


def test_a_survey_workbook_and_an_unknown_layout(tmp_path):
    book = write_survey_workbook(tmp_path / "q.xlsx", uscc="91440101MA59XXXX0X", name="x", period="2024-01")
    assert collectors.identify(book) == "survey"
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n", "utf-8")
    with pytest.raises(CollectorError, match=r"odd.csv: unknown layout \(header \['a', 'b', 'c'\]\)"):
        collectors.identify(odd)
