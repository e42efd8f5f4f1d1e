"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

An 18-character code: registration authority (1), entity type (1),
administrative division of registration (6), organisation code with its own
GB 11714 check character (9), and a final mod-31 check character (1).
"""

from __future__ import annotations

from .exceptions import InvalidCodeError

__all__ = ["ALPHABET", "uscc_check_char", "org_code_check_char", "make_uscc", "validate_uscc", "is_valid_uscc"]

#: The 31 characters allowed in a code (no I, O, S, V, Z), in value order.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc_check_char(body: str) -> str:
    """Return the GB 32100 check character for the first 17 characters.

    Parameters
    ----------
    body : str
        The first 17 characters of a code, from :data:`ALPHABET`.
    """
    if len(body) != 17 or any(c not in _VALUE for c in body):
        raise InvalidCodeError(
            f"a credit-code body must be 17 characters from {ALPHABET!r}; got {body!r}"
        )
    total = sum(_VALUE[c] * w for c, w in zip(body, _USCC_WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body: str) -> str:
    """Return the GB 11714 check character of an 8-character organisation code."""
    if len(body) != 8 or any(c not in _VALUE for c in body):
        raise InvalidCodeError(
            f"an organisation-code body must be 8 characters from {ALPHABET!r}; got {body!r}"
        )
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(division_code: str, org_body: str, *, authority: str = "9", entity_type: str = "1") -> str:
    """Build a valid code from a 6-digit division code and an 8-character organisation body."""
    org = org_body + org_code_check_char(org_body)
    body = f"{authority}{entity_type}{division_code}{org}"
    return body + uscc_check_char(body)


def validate_uscc(code: str) -> str:
    """Return ``code`` normalised (stripped, upper case) or raise :class:`InvalidCodeError`.

    The message names the rule that failed: length, alphabet, organisation-code
    check character or final check character.
    """
    norm = str(code).strip().upper()
    if len(norm) != 18:
        raise InvalidCodeError(f"a unified social credit code has 18 characters; {code!r} has {len(norm)}")
    bad = sorted({c for c in norm if c not in _VALUE})
    if bad:
        raise InvalidCodeError(
            f"credit code {code!r} contains characters not allowed by GB 32100 ({''.join(bad)}); "
            "check for the letters I, O, S, V, Z typed instead of digits"
        )
    org_expected = org_code_check_char(norm[8:16])
    if norm[16] != org_expected:
        raise InvalidCodeError(
            f"credit code {code!r}: organisation-code check character is {norm[16]!r}, expected {org_expected!r}"
        )
    expected = uscc_check_char(norm[:17])
    if norm[17] != expected:
        raise InvalidCodeError(f"credit code {code!r}: final check character is {norm[17]!r}, expected {expected!r}")
    return norm


def is_valid_uscc(code: str) -> bool:
    """Return True when ``code`` passes :func:`validate_uscc`."""
    try:
        validate_uscc(code)
    except InvalidCodeError:
        return False
    return True
