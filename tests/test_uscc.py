"""Unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.uscc import ALPHABET, InvalidCodeError, make_uscc, validate_uscc

# Codes published on the national enterprise credit information system (Tencent, Huawei, Baidu).
PUBLISHED = ["9144030071526726XG", "914403001922038216", "91110000802100433B"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_validate(code):
    assert validate_uscc(code.lower()) == code


@pytest.mark.parametrize(("code", "rule"), [
    ("9144030071526726X", "18 characters"),
    ("9144030071526726XO", "not allowed"),
    ("9144030071526726YG", "organisation-code check"),
    ("9144030071526726XH", "final check character"),
])
def test_invalid_codes_name_the_rule(code, rule):
    with pytest.raises(InvalidCodeError, match=rule):
        validate_uscc(code)


body = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)


@given(body=body, division=st.sampled_from(["440103", "440112", "440118"]))
def test_made_codes_validate_and_any_single_substitution_is_caught(body, division):
    code = make_uscc(division, body)
    assert validate_uscc(code) == code
    for pos in (0, 5, 12, 17):
        for ch in ALPHABET[:5]:
            if ch != code[pos]:
                mutated = code[:pos] + ch + code[pos + 1:]
                with pytest.raises(InvalidCodeError):
                    validate_uscc(mutated)
