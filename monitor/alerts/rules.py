"""Alert rules and recipient groups: declared in the config file, validated at start-up.

A rule is a table of ``[[alerts.rules]]`` in ``imon.toml``::

    [[alerts.rules]]
    name = "district_electricity_drop"      # unique, letters, digits, _ and -
    kind = "level"                          # level | change | power | no_response | target_path
                                            # | target_odds | response_rate | leading_turn
    severity = "critical"                   # info | warning | critical
    recipients = "district"                 # a group of [alerts.recipients], or "district": the
                                            # subject's district group (city subjects: alerts.summary_group)
    for = "0mo"                             # data months the condition must hold before it fires
    series = "electricity/yoy/district/*"   # kind-specific parameters (see KINDS)
    below = -10.0

Without any rule in the file the :data:`DEFAULT_RULES` apply; without ``[alerts.recipients]`` the
:func:`default_recipients` (one demo address per district plus ``leaders``).  Every error names the file, the
rule and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigError
from ..reference import DISTRICTS

__all__ = ["Rule", "KINDS", "SEVERITIES", "DEFAULT_RULES", "parse_rule", "parse_rules", "load_rules",
           "default_recipients", "load_recipients", "validate_settings", "parse_months"]

SEVERITIES = ("info", "warning", "critical")
DISTRICT_ROUTE = "district"
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,80}$")
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+$")


@dataclass(frozen=True)
class Rule:
    """One validated alert rule.

    Attributes
    ----------
    name, kind, severity, recipients
        As in the file.
    for_months : int
        Data months the condition must hold after it first holds before the alert fires (0 fires at once).
    params : dict
        Kind-specific parameters, typed and with defaults filled in.
    title_zh, title_en : str
        Optional headline of the alert in the digests (else a text built from the kind).
    """

    name: str
    kind: str
    severity: str
    recipients: str
    for_months: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    title_zh: str = ""
    title_en: str = ""

    def __hash__(self) -> int:
        return hash(self.name)


def parse_months(value: Any) -> int:
    """Whole data months from ``0``, ``2``, ``"2mo"``, ``"2 months"`` (``for`` of a rule)."""
    if isinstance(value, bool):
        raise ValueError("expected a number of months such as 0mo or 2mo, not a boolean")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        found = re.fullmatch(r"(\d+)\s*(mo|month|months)?", text)
        if not found:
            raise ValueError("expected whole data months such as 0mo, 1mo or 2mo (monthly data: the condition "
                             "must hold in that many further months)")
        number = int(found.group(1))
    if number < 0:
        raise ValueError("cannot be negative")
    return number


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a number")
    return float(value)


def _fraction(value: Any) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError("expected a share between 0 and 1")
    return number


def _pos_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected non-empty text")
    return value.strip()


def _which(value: Any) -> str:
    if value not in ("auto", "sa", "raw"):
        raise ValueError("expected auto (adjusted where there is one), sa or raw")
    return str(value)


def _direction(value: Any) -> str:
    if value not in ("fall", "rise"):
        raise ValueError("expected fall or rise")
    return str(value)


#: kind -> {parameter: (parser, default or REQUIRED, help)}; ``below``/``above`` rules are checked after.
REQUIRED = object()
ParamSpec = tuple[Callable[[Any], Any], Any, str]
KINDS: dict[str, dict[str, ParamSpec]] = {
    "level": {
        "series": (_text, REQUIRED, "series key or glob, e.g. pmi/headline/district/*"),
        "minus": (_text, None, "a second key or glob subtracted from it (same wildcard values)"),
        "below": (_number, None, "fires when the value is below this"),
        "above": (_number, None, "fires when the value is above this"),
        "months": (_pos_int, 1, "consecutive months the condition must hold in the data"),
        "value": (_which, "auto", "auto, sa or raw"),
    },
    "change": {
        "series": (_text, REQUIRED, "series key or glob of diffusion indices"),
        "se_multiple": (_number, 2.0, "fires when the change exceeds this many standard errors"),
        "direction": (_direction, "fall", "fall or rise"),
    },
    "power": {
        "below": (_fraction, REQUIRED, "share of the enterprise's baseline electricity (0.5 semi-stopped)"),
        "above": (_fraction, 0.0, "lower bound of the band (0.1 leaves stopped enterprises to another rule)"),
    },
    "no_response": {
        "months": (_pos_int, 2, "consecutive survey months without an answer"),
    },
    "target_path": {
        "indicator": (_text, "*ytd_yoy", "target indicator (official series) key or glob"),
        "margin": (_number, 0.0, "percentage points of slack below the path"),
    },
    "target_odds": {
        "indicator": (_text, "*", "target indicator key or glob"),
        "below": (_fraction, REQUIRED, "fires when the probability of meeting the target is below this"),
    },
    "leading_turn": {
        "series": (_text, "cli/*", "composite leading indicator key or glob (cli/city, cli/district/*)"),
        "confirm": (_pos_int, 3, "months of data after a peak before it counts (Bry-Boschan censoring)"),
        "within": (_pos_int, 6, "fires while the latest turning point is a peak at most this many months back"),
    },
    "response_rate": {
        "series": (_text, "response_rate/district/*", "response-rate series (percent)"),
        "below": (_number, 80.0, "fires when the response rate (percent) at survey close is below this"),
    },
}
_COMMON = ("name", "kind", "severity", "recipients", "for", "title_zh", "title_en", "enabled")


def _rule(name: str, kind: str, severity: str, recipients: str, for_: str = "0mo", **params: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "severity": severity, "recipients": recipients, "for": for_, **params}


#: The rules that apply when the config file declares none (documented in the README).
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    _rule("pmi_contraction", "level", "warning", "leaders", series="pmi/headline", below=50.0, months=3),
    _rule("district_pmi_contraction", "level", "warning", "district", series="pmi/headline/district/*",
          below=50.0, months=3),
    _rule("orders_below_inventory", "level", "warning", "district", series="pmi/new_orders/district/*",
          minus="pmi/finished_goods_inventory/district/*", below=0.0),
    _rule("price_scissors", "level", "warning", "leaders", series="pmi/input_prices", minus="pmi/output_prices",
          above=5.0),
    _rule("district_electricity_drop", "level", "critical", "district", series="electricity/yoy/district/*",
          below=-10.0),
    _rule("new_orders_fall", "change", "warning", "district", series="pmi/new_orders/district/*", se_multiple=2.0),
    _rule("enterprise_stopped", "power", "critical", "district", below=0.1),
    _rule("enterprise_semi_stopped", "power", "warning", "district", "1mo", below=0.5, above=0.1),
    _rule("survey_no_answer", "no_response", "info", "district", months=2),
    _rule("target_behind_path", "target_path", "warning", "district", indicator="*ytd_yoy", margin=0.0),
    _rule("target_odds_low", "target_odds", "critical", "leaders", indicator="*", below=0.5),
    _rule("response_rate_low", "response_rate", "info", "district", series="response_rate/district/*", below=80.0),
    _rule("leading_indicator_down", "leading_turn", "warning", "district", series="cli/*", confirm=3, within=6),
)


def parse_rule(raw: Any, origin: str, index: int) -> Rule | None:
    """Validate one rule table; None for ``enabled = false``.

    Raises
    ------
    ConfigError
        Naming ``origin``, the rule and the fix.
    """
    where = f"{origin}: alerts.rules[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table ([[alerts.rules]] followed by key = value lines)")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: name = {name!r} is missing or invalid; give each rule a unique name of letters, "
                          "digits, _ or -")
    where = f"{origin}: rule {name!r}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind = {kind!r} is unknown; use one of {', '.join(KINDS)}")
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: severity = {severity!r} is unknown; use one of {', '.join(SEVERITIES)}")
    recipients = raw.get("recipients")
    if not isinstance(recipients, str) or not recipients.strip():
        raise ConfigError(f"{where}: recipients is missing; name a group of [alerts.recipients] or \"district\" "
                          "(each subject's district group)")
    try:
        for_months = parse_months(raw.get("for", 0))
    except ValueError as exc:
        raise ConfigError(f"{where}: for = {raw.get('for')!r} is invalid ({exc})") from None
    specs = KINDS[kind]
    unknown = sorted(set(raw) - set(_COMMON) - set(specs))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} for kind {kind!r}; it takes "
                          f"{', '.join(specs)} (besides {', '.join(_COMMON)})")
    params: dict[str, Any] = {}
    for key, (parse, default, help_) in specs.items():
        if key not in raw:
            if default is REQUIRED:
                raise ConfigError(f"{where}: kind {kind!r} needs {key} ({help_})")
            params[key] = default
            continue
        try:
            params[key] = parse(raw[key])
        except ValueError as exc:
            raise ConfigError(f"{where}: {key} = {raw[key]!r} is invalid ({exc}); {key} is the {help_}") from None
    if kind == "level" and (params["below"] is None) == (params["above"] is None):
        raise ConfigError(f"{where}: a level rule needs exactly one of below = X or above = X")
    if kind == "power" and params["above"] >= params["below"]:
        raise ConfigError(f"{where}: above = {params['above']} must be less than below = {params['below']}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled = {enabled!r} must be true or false")
    if not enabled:
        return None
    titles = {k: raw.get(k, "") for k in ("title_zh", "title_en")}
    for k, v in titles.items():
        if not isinstance(v, str):
            raise ConfigError(f"{where}: {k} must be text")
    return Rule(name, kind, severity, recipients.strip(), for_months, params, titles["title_zh"], titles["title_en"])


def parse_rules(raws: Any, origin: str) -> tuple[Rule, ...]:
    """Validate a list of rule tables (names unique)."""
    if not isinstance(raws, list):
        raise ConfigError(f"{origin}: alerts.rules must be an array of tables, written [[alerts.rules]] once per rule")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raws):
        rule = parse_rule(raw, origin, i)
        name = raw.get("name") if isinstance(raw, Mapping) else None
        if name in seen:
            raise ConfigError(f"{origin}: rule {name!r} is declared twice; rename one of them")
        seen.add(str(name))
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def default_recipients() -> dict[str, tuple[str, ...]]:
    """The demo's recipient groups: ``district-<code>`` per district and ``leaders`` (``@demo.invalid``)."""
    groups: dict[str, tuple[str, ...]] = {f"district-{d.code}": (f"district-{d.code}@demo.invalid",) for d in DISTRICTS}
    groups["leaders"] = ("leaders@demo.invalid",)
    return groups


def parse_recipients(raw: Any, origin: str) -> dict[str, tuple[str, ...]]:
    """Validate ``[alerts.recipients]``: group name -> list of addresses."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: alerts.recipients must be a table of group = [\"address\", ...]")
    groups: dict[str, tuple[str, ...]] = {}
    for group, addresses in raw.items():
        if not _NAME.match(str(group)):
            raise ConfigError(f"{origin}: recipient group {group!r} is not a valid name (letters, digits, _ or -)")
        if isinstance(addresses, str):
            addresses = [addresses]
        if not isinstance(addresses, list) or not addresses:
            raise ConfigError(f"{origin}: recipient group {group!r} must be a non-empty list of addresses")
        bad = [a for a in addresses if not isinstance(a, str) or not _EMAIL.match(a.strip())]
        if bad:
            raise ConfigError(f"{origin}: recipient group {group!r} has invalid address(es) {bad}; write "
                              "name@example.org")
        groups[str(group)] = tuple(a.strip() for a in addresses)
    return groups


def _origin(settings: Mapping[str, Any]) -> str:
    path = getattr(settings, "config_path", None)
    return str(path) if path is not None else "default alert rules"


def load_rules(settings: Mapping[str, Any]) -> tuple[Rule, ...]:
    """The effective rules: the file's ``[[alerts.rules]]``, else :data:`DEFAULT_RULES`."""
    structured = getattr(settings, "structured", {}) or {}
    if "alerts.rules" in structured:
        return parse_rules(structured["alerts.rules"], _origin(settings))
    return parse_rules(list(DEFAULT_RULES), "default alert rules")


def load_recipients(settings: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The effective recipient groups: the file's ``[alerts.recipients]``, else :func:`default_recipients`."""
    structured = getattr(settings, "structured", {}) or {}
    if "alerts.recipients" in structured:
        return parse_recipients(structured["alerts.recipients"], _origin(settings))
    return default_recipients()


def validate_settings(settings: Mapping[str, Any]) -> None:
    """Check the rules and recipient groups together (called when the settings are loaded).

    Raises
    ------
    ConfigError
        A malformed rule or group, or a rule routed to a group that does not exist.
    """
    rules = load_rules(settings)
    groups = load_recipients(settings)
    origin = _origin(settings)
    summary = settings["alerts.summary_group"] if "alerts.summary_group" in settings else ""
    for rule in rules:
        if rule.recipients != DISTRICT_ROUTE and rule.recipients not in groups:
            raise ConfigError(f"{origin}: rule {rule.name!r} sends to recipients = {rule.recipients!r}, which is not a "
                              f"group of [alerts.recipients] ({', '.join(sorted(groups)) or 'none'}); add the group "
                              "or use \"district\"")
    if summary and summary not in groups:
        raise ConfigError(f"{origin}: alerts.summary_group = {summary!r} is not a group of [alerts.recipients] "
                          f"({', '.join(sorted(groups))}); add it or set alerts.summary_group = \"\"")
