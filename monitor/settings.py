"""The settings registry: one declaration drives defaults, parsing and documentation.

Each :class:`Setting` names a key (``section.name`` as in ``imon.toml``), its
default, its type and a help text.  Resolution order, lowest first:

1. the default declared here (every default runs the demo with no file);
2. the TOML file (``--config`` or ``IMON_CONFIG``);
3. environment variables, only for settings that declare one (connection
   strings and secrets, e.g. ``IMON_DATABASE_URL``);
4. explicit overrides from the command line.

Nothing is read at import time: :func:`load_settings` is called at the edge
(CLI start, job start, :func:`monitor.open`) and returns a frozen
:class:`Settings` that is passed explicitly to the stages.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import ConfigError
from .periods import parse_month

__all__ = ["Setting", "SETTINGS", "Settings", "load_settings", "settings_markdown", "mask_url", "parse_duration"]

CONFIG_ENV = "IMON_CONFIG"
DEFAULT_CONFIG_NAME = "imon.toml"


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not a boolean")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("expected a whole number")
    return int(str(value).strip()) if isinstance(value, str) else int(value)


def _parse_fraction(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number between 0 and 1, not a boolean")
    number = float(str(value).strip()) if isinstance(value, str) else float(value)
    if not 0 < number < 1:
        raise ValueError("expected a number between 0 and 1")
    return number


_SIMPLE_BREAKDOWNS = ("city", "district", "size", "industry", "key_sector")


def _parse_breakdowns(value: Any) -> str:
    items = value if isinstance(value, list) else str(value).split(",")
    kinds = [str(k).strip() for k in items if str(k).strip()]
    bad = [k for k in kinds if any(p not in _SIMPLE_BREAKDOWNS for p in k.split("+"))]
    if bad or not kinds:
        raise ValueError(f"expected a comma-separated list of {', '.join(_SIMPLE_BREAKDOWNS)} or combinations "
                         f"joined by '+' (e.g. district+size); not {', '.join(bad) or 'an empty list'}")
    return ",".join(kinds)


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value


def _parse_month_or_empty(value: Any) -> str:
    text = _parse_str(value).strip()
    if text == "":
        return ""
    return str(parse_month(text))


def _parse_clock(value: Any) -> str:
    """A time of day ``HH:MM`` (24-hour clock)."""
    text = _parse_str(value).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError("expected a time of day HH:MM, e.g. 09:30")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


_parse_clock.__name__ = "time"


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _parse_str(value).strip()
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    parse.__name__ = "one of " + ", ".join(options)
    return parse


_DURATION_UNITS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> int:
    """Seconds in a wall-clock duration such as ``90s``, ``5min``, ``6h``, ``30d`` or ``2w`` (a bare number is seconds).

    ``m`` is refused as ambiguous: write ``min`` (minutes) here; alert rules count data months with ``mo``.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 6h or 30d, not a boolean")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return int(value)
    text = _parse_str(value).strip().lower().replace(" ", "")
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]*)", text)
    if not found:
        raise ValueError("expected a duration such as 90s, 5min, 6h, 30d or 2w")
    number, unit = float(found.group(1)), found.group(2) or "s"
    if unit == "m":
        raise ValueError("'m' is ambiguous: write min for minutes")
    if unit not in _DURATION_UNITS:
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(_DURATION_UNITS)}")
    return int(number * _DURATION_UNITS[unit])


def _parse_duration_text(value: Any) -> str:
    parse_duration(value)
    return str(value).strip() if isinstance(value, str) else f"{int(value)}s"


def _parse_cron(value: Any) -> str:
    text = " ".join(_parse_str(value).split())
    if text and len(text.split(" ")) not in (5, 6):
        raise ValueError("expected a crontab line 'minute hour day month weekday' (5 fields; 6 with seconds "
                         "first), or empty to disable the job")
    return text


def _parse_positive_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    number = float(str(value).strip()) if isinstance(value, str) else float(value)
    if number < 0:
        raise ValueError("expected a number >= 0")
    return number


def _parse_trim(value: Any) -> float:
    number = _parse_positive_float(value)
    if 0 < number < 1:
        raise ValueError("expected 0 (no trimming) or a factor of at least 1 (a cap at k x the cell's median)")
    return number


_TYPE_NAMES: dict[Callable[[Any], Any], str] = {_parse_bool: "bool", _parse_int: "int", _parse_str: "text", _parse_month_or_empty: "month",
               _parse_fraction: "fraction", _parse_breakdowns: "list", _parse_duration_text: "duration",
               _parse_cron: "cron", _parse_positive_float: "number", _parse_trim: "number"}


@dataclass(frozen=True)
class Setting:
    """One configuration key.

    Parameters
    ----------
    key
        Dotted key, ``section.name`` (or a bare name for top-level keys).
    default
        Value used when nothing else sets it.
    parse
        Callable turning a raw value (TOML value or environment text) into the
        typed value; raises ``ValueError`` with a short reason when invalid.
    help
        One sentence shown by ``imon config show`` and in the README.
    env
        Environment variable that may set it (connection strings and secrets only).
    secret
        Mask the value when it is shown.
    minimum
        Lower bound for integer settings.
    """

    key: str
    default: Any
    parse: Callable[[Any], Any]
    help: str
    env: str | None = None
    secret: bool = False
    minimum: int | None = None

    @property
    def type_name(self) -> str:
        """Human name of the type, for documentation."""
        return _TYPE_NAMES.get(self.parse) or str(getattr(self.parse, "__name__", "value"))

    def convert(self, raw: Any, origin: str) -> Any:
        """Parse ``raw``; raise :class:`ConfigError` naming ``origin`` on failure."""
        try:
            value = self.parse(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{origin}: setting {self.key!r} = {raw!r} is invalid ({exc}); "
                f"it takes a {self.type_name}, default {self.default!r}"
            ) from None
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(
                f"{origin}: setting {self.key!r} = {raw!r} is below its minimum {self.minimum}; raise it"
            )
        return value


#: Every setting the platform knows.  Later stages add theirs here.
SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "var", _parse_str,
            "Folder for the default SQLite store and the outputs; relative paths are taken from the working directory."),
    Setting("language", "zh", _choice("zh", "en"),
            "Language of publications and emails: zh (Chinese, the default) or en."),
    Setting("log_level", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR"),
            "Logging threshold for the log file and stderr."),
    Setting("store.url", "", _parse_str,
            "SQLAlchemy URL of the store; empty means the SQLite file <data_dir>/imon.sqlite. "
            "Example: postgresql+psycopg://user@host/imon.",
            env="IMON_DATABASE_URL", secret=True),
    Setting("store.echo", False, _parse_bool, "Log every SQL statement (debugging only)."),
    Setting("outputs.dir", "", _parse_str,
            "Folder for publications and charts; empty means <data_dir>/outputs."),
    Setting("inbox.dir", "", _parse_str,
            "Folder where incoming files (workbooks, utility exports, official tables) are dropped; empty means "
            "<data_dir>/inbox."),
    Setting("survey.deadline_day", 25, _parse_int,
            "Day of the survey month by which questionnaires are due; later returns are flagged as late.",
            minimum=1),
    Setting("survey.close_days", 10, _parse_int,
            "Days after the end of the survey month during which late returns are still accepted.", minimum=0),
    Setting("ingest.chunk_rows", 500_000, _parse_int,
            "Rows read at a time from large files (memory stays flat).", minimum=1000),
    Setting("ingest.survey_max_rows", 100_000, _parse_int,
            "Most rows (lines) of survey workbooks (per sheet) and survey CSV exports; a larger file is refused whole, naming this limit.", minimum=10),
    Setting("ingest.survey_max_columns", 200, _parse_int,
            "Most columns of a row of survey files; a row with a value further right is refused.", minimum=3),
    Setting("ingest.survey_max_bytes", 8_388_608, _parse_int,
            "Most bytes of one survey file as text, or of a survey workbook once uncompressed (checked before reading).",
            minimum=1024),
    Setting("ingest.official_max_rows", 100_000, _parse_int,
            "Most rows (lines) of official tables; a larger file is refused whole, naming this limit.", minimum=10),
    Setting("ingest.official_max_columns", 2_000, _parse_int,
            "Most columns of a row of official files; a row with a value further right is refused.", minimum=3),
    Setting("ingest.official_max_bytes", 67_108_864, _parse_int,
            "Most bytes of one official file as text, or of a official workbook once uncompressed (checked before reading).",
            minimum=1024),
    Setting("ingest.feed_max_rows", 200_000_000, _parse_int,
            "Most rows (lines) of the utility feed and the account map (xlsx sheets stop at Excel's 1,048,576 rows); a larger file is refused whole, naming this limit.", minimum=10),
    Setting("ingest.feed_max_columns", 100, _parse_int,
            "Most columns of a row of feed files; a row with a value further right is refused.", minimum=3),
    Setting("ingest.feed_max_bytes", 17_179_869_184, _parse_int,
            "Most bytes of one feed file as text, or of a feed workbook once uncompressed (checked before reading).",
            minimum=1024),
    Setting("compute.weighting", "unweighted", _choice("size", "design", "unweighted"),
            "Survey weights: unweighted (the NBS count formula, self-weighting for size on a panel drawn PPS by "
            "revenue within divisions with sample sizes proportional to value added), size (design weight x "
            "revenue, post-stratified, trimmed at compute.size_trim) or design (sample weight only)."),
    Setting("compute.size_trim", 3.0, _parse_trim,
            "With compute.weighting = size: a revenue above this many times the median of its division x size "
            "cell is capped there (weight trimming; the cell keeps its total). 0 turns trimming off."),
    Setting("compute.breakdowns", "city,district,size,industry,key_sector", _parse_breakdowns,
            "Breakdowns of the survey indices; combinations joined by '+' cross two (district+size gives one "
            "index per district and size class)."),
    Setting("compute.min_respondents", 30, _parse_int,
            "Cells with fewer respondents are flagged as low-n; publications show the flag.", minimum=1),
    Setting("compute.workers", 0, _parse_int,
            "Processes computing the survey indices (months shared among them; the same numbers as one process); "
            "0 = every core.", minimum=0),
    Setting("compute.engine", "local", _choice("local", "dask"),
            "Where the heavy stages run: local (this machine's process pools and the store's readings) or dask "
            "(a Dask cluster: series batches on its workers, electricity from the Parquet archive with "
            "dask.dataframe; pip install 'industry-monitor[dask]')."),
    Setting("dask.address", "", _parse_str,
            "Address of a running Dask scheduler (tcp://host:8786) for compute.engine = dask; empty starts a "
            "local cluster on demand for the run.", env="IMON_DASK_ADDRESS"),
    Setting("dask.workers", 2, _parse_int,
            "Worker processes of the local cluster started when dask.address is empty (one thread each).",
            minimum=1),
    Setting("dask.batch", 8, _parse_int,
            "Series per Dask task (adjustments, forecasts): larger batches cost less scheduling.", minimum=1),
    Setting("electricity.archive", "", _parse_str,
            "Folder of the Parquet archive of daily readings (partitioned by month and region) that "
            "compute.engine = dask reads; empty means <data_dir>/archive/electricity. Without an archive the "
            "store's readings are used. When set (or with compute.engine = dask), imon collect writes each "
            "utility feed's readings into the archive too, after the store's commit."),
    Setting("monitoring.stop_threshold", 0.10, _parse_fraction,
            "An enterprise drawing less than this share of its electricity baseline is inferred stopped."),
    Setting("monitoring.semi_threshold", 0.50, _parse_fraction,
            "Below this share of its baseline (and above the stop threshold) it is inferred semi-stopped."),
    Setting("adjust.method", "x13", _choice("x13", "stl"),
            "Seasonal adjustment engine: x13 (X-13ARIMA-SEATS, X-11 decomposition, Spring Festival and working-day "
            "regressors) or stl (the same regressors by OLS, then robust STL)."),
    Setting("adjust.model", "(0 1 1)(0 1 1)", _parse_str,
            "ARIMA model of the X-13 adjustment: the airline model (0 1 1)(0 1 1) is fast and standard; search "
            "identifies the model per series in Python (unit-root tests, ARMA orders by BIC within automdl's "
            "limits) and runs X-13 with it fixed (about 4 x the airline's CPU); auto runs X-13's own automatic "
            "model search (automdl, about 17 x the airline's CPU)."),
    Setting("adjust.policy", "concurrent", _choice("concurrent", "projected"),
            "concurrent re-estimates every series each month; projected publishes with the factors the annual "
            "review (imon adjust --review YEAR) projected for the year, revising only once a year."),
    Setting("adjust.processes", 2, _parse_int, "Worker processes adjusting series in parallel.", minimum=1),
    Setting("forecast.series", "pmi/headline,pmi/new_orders,pmi/production,electricity/total/city", _parse_str,
            "Series forecast each month (comma-separated keys); the adjusted value is used where there is one."),
    Setting("forecast.key_series",
            "pmi/headline/district/*,electricity/total/district/*,iva/yoy@*,output/ytd_yoy@*,"
            "investment/industrial/ytd_yoy@*,pmi/headline/key_sector/*,pmi/production/key_sector/*", _parse_str,
            "Key series also forecast each month (comma-separated keys or globs; an official statistic as "
            "name@region, name@* for every region publishing it)."),
    Setting("forecast.key_models", "theta,snaive", _parse_str,
            "Candidate models of the combination for the key series (forecast.models applies to forecast.series)."),
    Setting("forecast.workers", 2, _parse_int, "Worker processes forecasting series in parallel.", minimum=1),
    Setting("forecast.track_months", 24, _parse_int,
            "Past origins the forecast stage fills in when they have no stored forecasts, nowcasts or odds (the "
            "track record; 0: none).", minimum=0),
    Setting("forecast.horizon", 6, _parse_int, "Months ahead to forecast.", minimum=1),
    Setting("forecast.review_months", 12, _parse_int,
            "Months a default-forecaster series keeps its specification (ARIMA orders, ETS form, interval scale) "
            "and only re-estimates the parameters before it is identified afresh (the annual review; 0: every "
            "month; imon forecast --reidentify forces it).", minimum=0),
    Setting("forecast.models", "default", _parse_str,
            "default: the mean of automatic ARIMA, ETS and Theta (Chinese calendar regressors for series read "
            "unadjusted); or candidates of the older backtest selection (ets, theta, sarimax, snaive, naive2)."),
    Setting("nowcast.target", "iva/yoy", _parse_str,
            "Official monthly statistic nowcast before its release (official_statistic series)."),
    Setting("nowcast.inputs",
            "pmi/headline,pmi/production,pmi/new_orders,pmi/new_export_orders,pmi/employment,electricity/yoy/city",
            _parse_str,
            "Stored series the nowcast reads (comma-separated; PMI indices enter as deviations from 50). For a "
            "district the same keys with /district/CODE are used."),
    Setting("nowcast.regions", "city", _choice("city", "all"),
            "Nowcast the city only, or the city and every district with the official series."),
    Setting("nowcast.official_lag", 1, _parse_int,
            "Months between a month and the release of its official statistics: at origin P the official values "
            "after P minus this lag are treated as unknown.", minimum=0),
    Setting("nowcast.method", "bridge", _choice("bridge", "dfm"),
            "bridge: bridge equations on the PMI, electricity, the base effect and working days, the best chosen "
            "out of sample per origin type (forecasting.bridge); dfm: the dynamic factor model with its news."),
    Setting("nowcast.maxiter", 500, _parse_int,
            "Most EM iterations of the dynamic factor model; stopping there is reported as not converged.",
            minimum=10),
    Setting("leading.components",
            "pmi/new_orders,pmi/new_export_orders,pmi/purchase_quantity,pmi/finished_goods_inventory,"
            "electricity/yoy/city", _parse_str,
            "Candidate components of the composite leading indicator (stored series; for a district the same keys "
            "with /district/CODE)."),
    Setting("leading.reference", "iva/yoy", _parse_str,
            "Reference series of the leading indicator (official statistic of the city and each district)."),
    Setting("leading.min_months", 60, _parse_int,
            "Fewest published months of the reference (and of a component) for a region's leading indicator.",
            minimum=48),
    Setting("leading.min_corr", 0.3, _parse_fraction,
            "Smallest absolute cross-correlation with the reference for a component to be selected."),
    Setting("leading.min_lead", 1, _parse_int,
            "Shortest lead (months) at which a component's strongest correlation must fall to be selected.",
            minimum=0),
    Setting("odds.simulations", 5000, _parse_int,
            "Simulated paths behind each target-attainment probability.", minimum=100),
    Setting("odds.seed", 2017, _parse_int, "Seed of the simulations (the same data give the same odds)."),
    Setting("odds.models", "theta,naive2", _parse_str,
            "Candidate models of the combination behind the odds (one forecast per target and region)."),
    Setting("publish.release_day", 15, _parse_int,
            "Day of the month after the period (the quarter, the year) from which a publication may be made final.",
            minimum=1),
    Setting("publish.release_time", "09:30", _parse_clock,
            "Time of day (publish.timezone) from which a publication may be made final on its release day."),
    Setting("publish.timezone", "Asia/Shanghai", _parse_str, "The bureau's time zone: release times, and every timestamp shown to users (labelled: 北京时间 / CST)."),
    Setting("publish.formats", "html,pdf,docx", _parse_str,
            "Formats written by imon publish (comma-separated: html, pdf, docx)."),
    Setting("publish.city_zh", "广州市", _parse_str, "City name in Chinese publications."),
    Setting("publish.city_en", "Guangzhou", _parse_str, "City name in English publications."),
    Setting("publish.issuer_zh", "广州市工业和信息化局", _parse_str, "Issuer printed under Chinese titles."),
    Setting("publish.issuer_en", "Guangzhou Municipal Bureau of Industry and Information Technology", _parse_str,
            "Issuer printed under English titles."),
    Setting("alerts.transport", "outbox", _choice("outbox", "smtp"),
            "How warning emails leave: outbox (one .eml file per message in alerts.outbox_dir, for the demo and "
            "air-gapped sites) or smtp (the smtp.* server)."),
    Setting("alerts.outbox_dir", "", _parse_str, "Folder of the file outbox; empty means <data_dir>/outbox."),
    Setting("alerts.repeat_interval", "30d", _parse_duration_text,
            "A firing alert is notified again after this long (wall clock) if it is still firing."),
    Setting("alerts.send_resolved", True, _parse_bool, "Send a notice when a notified alert resolves."),
    Setting("alerts.summary_group", "leaders", _parse_str,
            "Recipient group that receives the city summary (every alert of the run) besides the district digests; "
            "empty for none."),
    Setting("alerts.chart_months", 24, _parse_int, "Months of history drawn in the digest's inline chart.",
            minimum=3),
    Setting("smtp.host", "", _parse_str, "SMTP server for alerts.transport = smtp."),
    Setting("smtp.port", 587, _parse_int, "SMTP port (587 STARTTLS, 465 SSL, 25 plain).", minimum=1),
    Setting("smtp.security", "starttls", _choice("starttls", "ssl", "none"),
            "Connection security: starttls (upgrade after connecting), ssl (TLS from the start) or none "
            "(loopback relays only)."),
    Setting("smtp.username", "", _parse_str, "SMTP login; empty sends without authentication.",
            env="IMON_SMTP_USERNAME"),
    Setting("smtp.password", "", _parse_str, "SMTP password; set it in the environment, never in the file.",
            env="IMON_SMTP_PASSWORD", secret=True),
    Setting("smtp.sender", "imon@demo.invalid", _parse_str, "From address of the warning emails."),
    Setting("smtp.timeout", 30, _parse_int, "Seconds to wait for the SMTP server.", minimum=1),
    Setting("smtp.retries", 3, _parse_int,
            "Attempts per message and run; a message still unsent is tried again on the next run.", minimum=1),
    Setting("smtp.backoff", 2.0, _parse_positive_float,
            "Seconds before the second attempt, doubled before each further one."),
    Setting("web.host", "127.0.0.1", _parse_str, "Address `imon serve` listens on (behind the reverse proxy)."),
    Setting("web.port", 8000, _parse_int, "Port `imon serve` listens on.", minimum=1),
    Setting("web.secret_key", "", _parse_str,
            "Key that signs the portal's session cookies (32+ random characters, the same for every worker); "
            "empty means a key kept in <data_dir>/web-secret.key, made on first use.",
            env="IMON_WEB_SECRET", secret=True),
    Setting("web.proxy_ips", "127.0.0.1", _parse_str,
            "Reverse proxies trusted for X-Forwarded-For/-Proto (comma-separated; * for any): the client address in "
            "the audit log and Secure cookies behind TLS."),
    Setting("web.session_minutes", 30, _parse_int, "A portal session ends after this many idle minutes.", minimum=1),
    Setting("web.lockout_attempts", 5, _parse_int, "Wrong passwords in a row that lock an account.", minimum=1),
    Setting("web.lockout_minutes", 15, _parse_int, "How long a locked account stays locked.", minimum=1),
    Setting("web.activation_days", 60, _parse_int, "Days an activation code from `imon portal invite` stays valid.",
            minimum=1),
    Setting("web.base_url", "http://127.0.0.1:8000", _parse_str,
            "The portal's public address, printed on invitations and in reminder e-mails."),
    Setting("schedule.timezone", "Asia/Shanghai", _parse_str, "Time zone of the schedule's cron lines."),
    Setting("schedule.survey_reminders", "0 9 20 * *", _parse_cron,
            "Survey reminders (the survey's missing enterprises by district); empty disables a job."),
    Setting("schedule.survey_close", "0 18 10 * *", _parse_cron,
            "Survey close for the previous month: response rates are checked (data-quality rules)."),
    Setting("schedule.monthly_chain", "0 8 12 * *", _parse_cron,
            "Release day: the monthly stages (collect, compute, adjust, forecast, publish, alerts) for the previous month."),
    Setting("schedule.alerts_scan", "30 7 * * *", _parse_cron, "The daily early-warning scan."),
    Setting("schedule.quarterly_dispatch", "0 9 15 1,4,7,10 *", _parse_cron,
            "The quarterly dispatch report for the quarter just ended."),
    Setting("schedule.annual_summary", "0 9 20 1 *", _parse_cron, "The annual summary of the year just ended."),
    Setting("schedule.misfire_grace", "12h", _parse_duration_text,
            "A run missed (scheduler down) is still made when it restarts within this long; runs missed together "
            "are coalesced into one."),
    Setting("schedule.lock_ttl", "2min", _parse_duration_text,
            "The scheduler lock expires when its holder has not renewed it for this long (a crashed scheduler)."),
    Setting("demo.seed", 2017, _parse_int, "Seed of the demo panel generator (same seed, same panel).", minimum=0),
    Setting("demo.enterprises", 1200, _parse_int, "Sample enterprises active in each month of the demo panel.",
            minimum=20),
    Setting("demo.start", "2012-01", _parse_month_or_empty, "First month of the demo panel (not before 2005-01)."),
    Setting("demo.end", "", _parse_month_or_empty,
            "Last month of the demo panel; empty means the last complete month."),
)

_BY_KEY = {s.key: s for s in SETTINGS}


_SECRET_PARAM = re.compile(r"(?i)(pass|pwd|secret|token|key|auth|credential)")


def mask_url(url: str) -> str:
    """Replace the secrets of a database URL by ``***``.

    The password of the user part (everything after the first ``:`` up to the *last* ``@`` of the address, so a
    raw ``@`` inside a password does not show its tail) and the value of every query parameter whose name says
    it is a secret (``password=``, ``sslpassword=``, ``token=``, ...).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    address, qmark, query = rest.partition("?")
    if not address.startswith("/") and "@" in address:
        userinfo, _, host = address.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        address = f"{user}:***@{host}" if colon else f"{userinfo}@{host}"
    if qmark:
        parts = []
        for item in query.split("&"):
            name, eq, value = item.partition("=")
            parts.append(f"{name}=***" if eq and value and _SECRET_PARAM.search(name) else item)
        query = "&".join(parts)
    return f"{scheme}://{address}{qmark}{query}"


@dataclass(frozen=True)
class Settings(Mapping[str, Any]):
    """The effective settings: a read-only mapping from key to typed value.

    Attributes
    ----------
    typed : dict
        Key -> typed value for every registered setting.
    sources : dict
        Key -> where the value came from (``default``, a file path, an
        environment variable, ``command line``).
    config_path : Path or None
        The file that was read, if any.
    """

    typed: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    config_path: Path | None = None
    structured: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.typed[key]
        except KeyError:
            raise KeyError(_unknown_key_message(key, "settings")) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.typed)

    def __len__(self) -> int:
        return len(self.typed)

    @property
    def data_dir(self) -> Path:
        """The data folder as an absolute path."""
        return Path(self.typed["data_dir"]).expanduser().resolve()

    @property
    def store_url(self) -> str:
        """The store URL with the SQLite default filled in."""
        url = self.typed["store.url"]
        return url or f"sqlite:///{self.data_dir / 'imon.sqlite'}"

    @property
    def inbox_dir(self) -> Path:
        """The inbox folder as an absolute path."""
        inbox = self.typed["inbox.dir"]
        return Path(inbox).expanduser().resolve() if inbox else self.data_dir / "inbox"

    @property
    def outputs_dir(self) -> Path:
        """The outputs folder as an absolute path."""
        out = self.typed["outputs.dir"]
        return Path(out).expanduser().resolve() if out else self.data_dir / "outputs"

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with some keys replaced (dots written as ``__``)."""
        values = dict(self.typed)
        sources = dict(self.sources)
        for name, raw in overrides.items():
            key = name.replace("__", ".")
            setting = _lookup(key, "command line")
            values[key] = setting.convert(raw, "command line")
            sources[key] = "command line"
        return Settings(values, sources, self.config_path, self.structured)

    def display(self, *, as_toml: bool = True) -> list[tuple[str, Any, str]]:
        """Rows ``(key, value, source)`` with secrets masked: the value as TOML text, or (``as_toml=False``, for
        JSON) as the plain value (text unquoted, numbers and booleans as such, paths and times as text)."""
        rows = []
        for s in SETTINGS:
            value = self.typed[s.key]
            if s.key == "store.url":
                value = mask_url(self.store_url)
            elif s.secret and value:
                value = "***"
            if as_toml:
                value = _toml_text(value)
            elif not isinstance(value, (str, int, float, bool, list, dict)) and value is not None:
                value = str(value)
            rows.append((s.key, value, self.sources.get(s.key, "default")))
        return rows


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _unknown_key_message(key: str, origin: str) -> str:
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{origin}: unknown setting {key!r}{hint} (`imon config show` lists them all)"


def _lookup(key: str, origin: str) -> Setting:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ConfigError(_unknown_key_message(key, origin)) from None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist; fix --config/{CONFIG_ENV} or create it") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}; fix that line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read ({exc}); it must be UTF-8 TOML") from None


def load_settings(
    config: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve the effective settings.

    Parameters
    ----------
    config
        Path of a TOML file.  When None, ``IMON_CONFIG`` is used; when that is
        unset too, ``./imon.toml`` is read if it exists.
    environ
        Environment to read (default ``os.environ``); tests pass their own.
    overrides
        Key -> raw value from the command line; these win over everything.

    Returns
    -------
    Settings

    Raises
    ------
    ConfigError
        For a missing or malformed file, an unknown key or an invalid value.

    Notes
    -----
    The file's tables ``[[alerts.rules]]`` and ``[alerts.recipients]`` are kept as read
    (:attr:`Settings.structured`); the callers that load rules check them with
    :func:`monitor.alerts.rules.validate_settings` (the command line at start, an alert scan before it runs).
    """
    env = os.environ if environ is None else environ
    values = {s.key: s.default for s in SETTINGS}
    sources = {s.key: "default" for s in SETTINGS}
    path: Path | None = None
    if config is not None:
        path = Path(config)
    elif env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    elif Path(DEFAULT_CONFIG_NAME).is_file():
        path = Path(DEFAULT_CONFIG_NAME)
    structured: dict[str, Any] = {}
    if path is not None:
        data = _read_toml(path)
        structured = _pop_structured(data, path)
        for key, raw in _flatten(data).items():
            setting = _lookup(key, str(path))
            values[key] = setting.convert(raw, str(path))
            sources[key] = str(path)
    for s in SETTINGS:
        if s.env and env.get(s.env):
            values[s.key] = s.convert(env[s.env], f"environment variable {s.env}")
            sources[s.key] = s.env
    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        setting = _lookup(key, "command line")
        values[key] = setting.convert(raw, "command line")
        sources[key] = "command line"
    return Settings(values, sources, path, structured)


#: Keys of the file that are tables or arrays of tables rather than scalar settings.
STRUCTURED_KEYS = ("alerts.rules", "alerts.recipients", "alerts.robots")


def _pop_structured(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Remove the structured keys (``[[alerts.rules]]``, ``[alerts.recipients]``) from ``data`` and return them."""
    out: dict[str, Any] = {}
    section = data.get("alerts")
    if isinstance(section, dict):
        for name in ("rules", "recipients", "robots"):
            if name in section:
                out[f"alerts.{name}"] = section.pop(name)
        if not section:
            data.pop("alerts")
    if "alerts.rules" in out and not isinstance(out["alerts.rules"], list):
        raise ConfigError(f"{path}: alerts.rules must be an array of tables, written [[alerts.rules]] once per rule")
    if "alerts.recipients" in out and not isinstance(out["alerts.recipients"], dict):
        raise ConfigError(f"{path}: alerts.recipients must be a table [alerts.recipients] of group = [addresses]")
    if "alerts.robots" in out and not isinstance(out["alerts.robots"], list):
        raise ConfigError(f"{path}: alerts.robots must be an array of tables, written [[alerts.robots]] once per robot")
    return out


def settings_markdown() -> str:
    """Return the Markdown table of all settings (the README's configuration reference)."""
    lines = ["| key | type | default | environment | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        default = f"`{_toml_text(s.default)}`"
        lines.append(f"| `{s.key}` | {s.type_name} | {default} | {f'`{s.env}`' if s.env else ''} | {s.help} |")
    return "\n".join(lines)
