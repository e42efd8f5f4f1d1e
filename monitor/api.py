"""The analysts' Python API: one object over the store, returning pandas objects.

>>> import monitor
>>> store = monitor.open("sqlite:///var/imon.sqlite")            # doctest: +SKIP
>>> store.series("pmi/headline").tail(3)                         # doctest: +SKIP

Shapes (the same for every call):

- **One series** (an exact key): a frame indexed by a monthly ``PeriodIndex`` named ``period`` with the
  columns ``raw`` (as computed), ``sa`` (seasonally adjusted, NaN where the series is not adjusted),
  ``value`` (``sa`` where there is one, else ``raw``: what the publications print), ``se`` (standard
  error), ``n`` (respondents or enterprises) and ``vintage`` (the UTC timestamp of the run that stored the value).
- **Several series** (a glob pattern, ``*`` = one path segment): the same columns side by side under a
  column ``MultiIndex`` with levels ``series_key`` and ``field``; ``frame.xs("value", axis=1,
  level="field")`` gives one column per key. ``field="value"`` returns that directly, ``shape="long"``
  the tidy frame (one row per key and month, a ``series_key`` column).
- **Tables** (release table, microdata, alerts, forecasts): flat frames, one row per record, periods as
  ``pandas.Period``.

Everything here reads; nothing writes to the store.  The computations live in the pipeline modules
(:mod:`monitor.results`, :mod:`monitor.publish`, :mod:`monitor.indicators`, :mod:`monitor.nowcasts`); this
module only selects and shapes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .exceptions import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .settings import Settings
    from .store import Store

__all__ = ["AnalystStore", "SeriesNotFoundError", "open", "FIELDS", "MONITORING_FAMILIES"]

#: Columns of a series frame, in order.
FIELDS = ("raw", "sa", "value", "se", "n", "vintage")
#: Key prefixes of the monitoring indicators (:meth:`AnalystStore.indicators`).
MONITORING_FAMILIES = ("electricity", "status", "inventory", "costs", "lamps")
#: Breakdowns of the release table, in the order of the release.
PMI_BREAKDOWNS = ("city", "size", "key_sector", "district")

class SeriesNotFoundError(MonitorError, LookupError):
    """No stored series matches the key or pattern asked for."""


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` matches one path segment (as in the alert rules), ``**`` any number of segments."""
    parts = [re.escape(p) for p in pattern.split("**")]
    parts = [p.replace(r"\*", "[^/]*") for p in parts]
    return re.compile("^" + ".*".join(parts) + "$")


def _month(period: object) -> pd.Period:
    import pandas as pd

    from .periods import parse_month

    if isinstance(period, pd.Period):
        return period.asfreq("M")
    return parse_month(str(period))


def _url(target: str | PathLike[str]) -> str:
    text = str(target)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


class AnalystStore:
    """Read-only analyst's view of a store: series, release tables, microdata, alerts and forecasts.

    Use :func:`open` to get one.  It is a context manager; :meth:`close` releases its connections.

    Parameters
    ----------
    store
        An open :class:`monitor.store.Store`.
    settings
        The effective settings (weighting, thresholds); default: :func:`monitor.settings.load_settings`.

    Attributes
    ----------
    store : monitor.store.Store
        The underlying store, for the stages (``monitor.run_stage(store.store, store.settings, "adjust", period)``).
    settings : monitor.settings.Settings
    """

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        from .settings import load_settings

        self.store = store
        self.settings = settings if settings is not None else load_settings()

    # ------------------------------------------------------------------ basics
    def close(self) -> None:
        """Release the store's pooled connections."""
        self.store.close()

    def __enter__(self) -> AnalystStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AnalystStore({self.store.url!r})"

    @property
    def url(self) -> str:
        """The store's URL, password masked."""
        return self.store.url

    def keys(self, pattern: str = "**") -> list[str]:
        """Stored series keys matching a glob pattern, sorted.

        Parameters
        ----------
        pattern
            ``*`` matches one path segment (``pmi/*/district/*``), ``**`` any number.

        Examples
        --------
        >>> store.keys("pmi/headline/size/*")                    # doctest: +SKIP
        ['pmi/headline/size/large', 'pmi/headline/size/medium', 'pmi/headline/size/small']
        """
        prefix = pattern.split("*", 1)[0]
        rx = _glob_regex(pattern)
        from .store import series as series_q

        return [k for k in series_q.series_keys(self.store, prefix) if rx.match(k)]

    def latest_period(self, key: str = "pmi/headline") -> pd.Period:
        """The last month with a value of ``key`` (default: the PMI).

        Raises
        ------
        SeriesNotFoundError
            When ``key`` has no value.
        """
        from .store import series as series_q

        value = series_q.last_period(self.store, key)
        if value is None:
            raise SeriesNotFoundError(f"no stored series {key!r}; list the keys with store.keys('{key.split('/')[0]}/**')")
        return _month(value)

    # ------------------------------------------------------------------ series
    def series(self, pattern: str, *, as_of: dt.date | str | None = None, start: object = None, end: object = None,
               field: str | None = None, shape: Literal["auto", "wide", "long"] = "auto") -> pd.DataFrame:
        """Stored series by key or glob pattern, as known on a date.

        Parameters
        ----------
        pattern
            A key (``"pmi/headline"``) or a glob (``"pmi/*/district/*"``: ``*`` is one path segment,
            ``**`` any number).
        as_of
            Vintage selection: the values as stored on or before this date (what was known then, and
            what a publication of that day printed).  Default: the latest.
        start, end
            First and last month to return (``"2017-01"`` or a ``Period``), inclusive.
        field
            One of :data:`FIELDS`: return only that field, one column per key (for a single key too).
        shape
            ``"auto"`` (flat columns for an exact key, a ``(series_key, field)`` column ``MultiIndex``
            for a pattern), ``"wide"`` (always the ``MultiIndex``) or ``"long"`` (one row per key and
            month, with a ``series_key`` column).

        Returns
        -------
        pandas.DataFrame
            Indexed by a monthly ``PeriodIndex`` named ``period``; see the module docstring.

        Raises
        ------
        SeriesNotFoundError
            When nothing matches (the message suggests keys that exist).

        Examples
        --------
        >>> pmi = store.series("pmi/headline")                    # doctest: +SKIP
        >>> pmi[["raw", "sa", "se"]].tail(2)                      # doctest: +SKIP
        >>> store.series("pmi/headline/district/*", field="value").iloc[-1]   # doctest: +SKIP
        >>> store.series("pmi/headline", as_of="2017-03-31")      # doctest: +SKIP
        """
        import pandas as pd

        from .results import read_series

        if field is not None and field not in FIELDS:
            raise ValueError(f"field must be one of {', '.join(FIELDS)}; got {field!r}")
        if shape not in ("auto", "wide", "long"):
            raise ValueError(f"shape must be 'auto', 'wide' or 'long'; got {shape!r}")
        glob = "*" in pattern
        frame = read_series(self.store, pattern, as_of=as_of)
        if glob:  # read_series matches '*' across segments; here '*' is one segment
            rx = _glob_regex(pattern)
            frame = frame[frame["series_key"].map(lambda k: bool(rx.match(k)))]
        if start is not None:
            frame = frame[frame.index >= _month(start)]
        if end is not None:
            frame = frame[frame.index <= _month(end)]
        if frame.empty:
            raise SeriesNotFoundError(self._not_found(pattern, as_of))
        frame = frame.copy()
        frame["value"] = frame["sa"].where(frame["sa"].notna(), frame["raw"])
        frame = frame[["series_key", *FIELDS]]
        if shape == "long":
            return frame if field is None else frame[["series_key", field]]
        if field is not None:
            wide = frame.pivot(columns="series_key", values=field)
            wide.columns.name = "series_key"
            wide.index.name = "period"
            return wide.sort_index()
        if not glob and shape == "auto":
            return frame.drop(columns="series_key")
        parts = {key: group.drop(columns="series_key") for key, group in frame.groupby("series_key", sort=True)}
        wide = pd.concat(parts, axis=1, names=["series_key", "field"]).sort_index()
        wide.index.name = "period"
        return wide

    def _not_found(self, pattern: str, as_of: object) -> str:
        head = pattern.split("/")[0].split("*")[0]
        near = self.keys(f"{head}/**")[:8] if head else []
        when = f" as of {as_of}" if as_of is not None else ""
        hint = f"; keys that exist include {', '.join(near)}" if near else \
            "; list the stored keys with store.keys('**')"
        return f"no stored series matches {pattern!r}{when}{hint}"

    # ------------------------------------------------------------------ the release table
    def pmi(self, period: object = None, *, as_of: dt.date | str | None = None, published: bool = False,
            breakdowns: Sequence[str] = PMI_BREAKDOWNS, lang: str = "en") -> pd.DataFrame:
        """The month's PMI table as the release prints it: 14 indices by breakdown with change, SE and n.

        Values are those of the PMI release (:mod:`monitor.publish.pmi`): the adjusted value where the
        series is adjusted, else the raw one, read through the publication's own reader
        (:class:`monitor.publish.sources.Inputs`); ``change`` is computed from the values rounded to one
        decimal, as printed.

        Parameters
        ----------
        period
            The month (``"2017-01"``); default the latest month with a PMI.
        as_of
            Vintage date (what was known then); default the latest.
        published
            Read the vintages recorded by the newest final edition of the PMI release of ``period`` (what
            was actually published); raises :class:`SeriesNotFoundError` when there is none.
        breakdowns
            Any of ``city``, ``size``, ``key_sector``, ``district``, ``industry``.
        lang
            Language of the ``name`` and ``index_name`` columns (``en`` or ``zh``).

        Returns
        -------
        pandas.DataFrame
            One row per breakdown, code and index (release order: Table 1 then Table 2), columns
            ``breakdown, code, name, index, index_name, value, previous, change, se, n, low_n,
            adjusted``.  ``low_n`` flags cells under ``compute.min_respondents``.  Pivot with
            ``t.pivot_table(index=["breakdown", "code"], columns="index", values="value", sort=False)``.

        Examples
        --------
        >>> t = store.pmi("2017-01")                                       # doctest: +SKIP
        >>> t[(t.breakdown == "city") & (t["index"] == "headline")][["value", "change", "se", "n"]]  # doctest: +SKIP
        """

        from .publish import PMI_TABLE_BREAKDOWNS, pmi_table

        p = self.latest_period() if period is None else _month(period)
        unknown = [b for b in breakdowns if b not in PMI_TABLE_BREAKDOWNS]
        if unknown:
            raise ValueError(f"unknown breakdown(s) {unknown}; choose among {', '.join(PMI_TABLE_BREAKDOWNS)}")
        record = self._published_record("pmi", str(p)) if published else None
        limit = None
        if not published and as_of is not None:
            from .store.vintages import as_of_limit

            at = as_of_limit(as_of)  # a date admits its whole day, a timestamp itself
            limit = None if at is None else at.isoformat()
        table = pmi_table(self.store, p, breakdowns=breakdowns, lang=lang, record=record, as_of=limit,
                          city_name=self.settings["publish.city_zh" if lang == "zh" else "publish.city_en"],
                          min_respondents=self.settings["compute.min_respondents"])
        if table.empty:
            raise SeriesNotFoundError(f"the store has no PMI for {p}" + (f" as of {as_of}" if as_of else "") +
                                      f"; the latest month with one is {self._latest_or_none()}")
        table["n"] = table["n"].astype("Int64")
        table.attrs.update(period=p, source="published" if published else f"as of {as_of}" if as_of else "latest")
        return table

    def _latest_or_none(self) -> str:
        try:
            return str(self.latest_period())
        except SeriesNotFoundError:
            return "none (run imon compute)"

    def _published_record(self, kind: str, period: str) -> dict[str, Any]:
        from .store import publications as publications_q

        rows = publications_q.final_inputs(self.store, kind=kind, period=period)
        if rows.empty:
            raise SeriesNotFoundError(f"no final edition of the {kind} release for {period} is stored; "
                                      f"use published=False for the latest values (or imon publish {kind} "
                                      f"{period} --final)")
        return json.loads(rows["inputs"].iloc[0])

    # ------------------------------------------------------------------ microdata
    def panel(self, period: object, *, weighting: str | None = None) -> pd.DataFrame:
        """The month's survey microdata with weights: every answer of every responding enterprise.

        The weights are those of the index computation (:func:`monitor.indicators.survey.respondent_weights`
        with ``compute.weighting``: by default every firm counts once -- the NBS count formula on the PPS
        panel -- with ``size`` design weight x revenue trimmed at ``compute.size_trim``; post-stratified to
        division x size cells, respondents reweighted within their cell for non-response), so a weighted mean
        over any subset reproduces the published method::

            DI = 100 * sum(weight * (answer + 1) / 2) / sum(weight)

        Parameters
        ----------
        period
            The survey month.
        weighting
            ``size``, ``design`` or ``unweighted``; default ``compute.weighting``.

        Returns
        -------
        pandas.DataFrame
            One row per enterprise and question: ``period, enterprise_id, uscc, name_zh, district_code,
            industry_code, size_class, stratum, question, answer`` (-1 lower, 0 same, 1 higher) ``,
            weight``.

        Examples
        --------
        >>> t = store.panel("2017-01")                                     # doctest: +SKIP
        >>> no = t[t.question == "new_orders"]                             # doctest: +SKIP
        >>> no.groupby("district_code").apply(lambda g: 100 * (g.weight * (g.answer + 1) / 2).sum() / g.weight.sum())  # doctest: +SKIP
        """
        from .compute import survey_weights

        p = _month(period)
        weights = survey_weights(self.store, self.settings, str(p), weighting=weighting)
        if weights.empty:
            raise SeriesNotFoundError(f"no survey answers are stored for {p}")
        from .store import survey as survey_q

        info = survey_q.enterprise_records(self.store, ["id", "uscc", "name_zh", "district_code", "industry_code",
                                                        "size_class"], rename={"id": "enterprise_id"})
        out = weights.merge(info, on="enterprise_id", how="left")
        cols = ["period", "enterprise_id", "uscc", "name_zh", "district_code", "industry_code", "size_class",
                "stratum", "question", "answer", "weight"]
        return out[cols].reset_index(drop=True)

    def low_n(self, period: object = None, *, prefix: str = "pmi/") -> pd.DataFrame:
        """Stored survey cells and their low-n flag (fewer respondents than ``compute.min_respondents``).

        Parameters
        ----------
        period
            The month; default every month.
        prefix
            Series family (``pmi/`` default: diffusion indices and headlines; ``balance/``, ``problems/``...).

        Returns
        -------
        pandas.DataFrame
            ``series_key, period, raw, sa, se, n, low_n`` (:func:`monitor.store.survey_quality.low_n_cells`).

        Examples
        --------
        >>> flags = store.low_n("2026-10")                                 # doctest: +SKIP
        >>> flags[flags.low_n & flags.series_key.str.startswith("pmi/headline/district/")]  # doctest: +SKIP
        """
        from .store.survey_quality import low_n_cells

        return low_n_cells(self.store, int(self.settings["compute.min_respondents"]),
                           period=None if period is None else str(_month(period)), prefix=prefix)

    # ------------------------------------------------------------------ monitoring indicators
    def indicators(self, region: str = "city", *, families: Sequence[str] = MONITORING_FAMILIES,
                   field: str = "value", as_of: dt.date | str | None = None, start: object = None,
                   end: object = None) -> pd.DataFrame:
        """The monitoring indicators of the city or a district, one column per indicator.

        Parameters
        ----------
        region
            ``"city"`` (the city-level series, the lamps and the composite index) or a district code
            (``"440112"``: the series ending in ``/district/440112``).
        families
            Key prefixes among :data:`MONITORING_FAMILIES` (electricity, status, inventory, costs, lamps).
        field, as_of, start, end
            As for :meth:`series`.

        Returns
        -------
        pandas.DataFrame
            Monthly ``PeriodIndex``; one column per series key.

        Examples
        --------
        >>> store.indicators(families=["status"]).iloc[-1]        # doctest: +SKIP
        """
        import pandas as pd

        frames = []
        for family in families:
            if family not in MONITORING_FAMILIES:
                raise ValueError(f"unknown family {family!r}; choose among {', '.join(MONITORING_FAMILIES)}")
            pattern = f"{family}/**"
            try:
                wide = self.series(pattern, as_of=as_of, start=start, end=end, field=field)
            except SeriesNotFoundError:
                continue
            if region == "city":
                keep = [k for k in wide.columns if k.endswith("/city") or (family == "lamps" and "/" in k)]
            else:
                keep = [k for k in wide.columns if k.endswith(f"/district/{region}")]
            frames.append(wide[keep])
        if not frames or not any(len(f.columns) for f in frames):
            raise SeriesNotFoundError(f"no monitoring indicators stored for region {region!r}; run imon compute")
        out = pd.concat(frames, axis=1).sort_index()
        out.columns.name = "series_key"
        return out

    def lamps(self, *, as_of: dt.date | str | None = None, start: object = None, end: object = None) -> pd.DataFrame:
        """The signal lamps: one column per indicator (score 1 blue ... 5 red) and ``composite`` (the index W).

        Examples
        --------
        >>> store.lamps().tail(3)                                          # doctest: +SKIP
        """
        wide = self.series("lamps/*", as_of=as_of, start=start, end=end, field="raw")
        wide.columns = [c.split("/", 1)[1] for c in wide.columns]
        wide.columns.name = "indicator"
        return wide

    # ------------------------------------------------------------------ adjustment diagnostics
    def adjustments(self, pattern: str = "**", *, kind: str | None = None, latest: bool = True) -> pd.DataFrame:
        """Seasonal-adjustment diagnostics (table ``series_adjustment``), one row per series and vintage.

        Parameters
        ----------
        pattern
            Series keys (glob as in :meth:`series`).
        kind
            ``concurrent``, ``review`` or ``projected``; default all.
        latest
            Only the newest row per series and kind.

        Returns
        -------
        pandas.DataFrame
            ``series_key, vintage, kind, status, method_used, model, mode, m7, q, qs_p, light, festival_t,
            working_day_t, n_outliers, notes, error`` (and ``factors`` as JSON text for reviews).
        """
        import pandas as pd

        from .store import series as series_q

        rows = series_q.adjustment_rows(self.store, kind)
        rx = _glob_regex(pattern)
        rows = rows[rows["series_key"].map(lambda k: bool(rx.match(k)))] if len(rows) else rows
        if len(rows):
            rows["vintage"] = pd.to_datetime(rows["vintage"])  # the run's UTC timestamp
        if latest and len(rows):
            rows = rows.drop_duplicates(["series_key", "kind"], keep="last")
        return rows.reset_index(drop=True)

    # ------------------------------------------------------------------ alerts
    def alerts(self, *, state: str | Sequence[str] | None = ("pending", "firing"), rule: str | None = None,
               region: str | None = None) -> pd.DataFrame:
        """Early-warning alerts (table ``alert_event``), newest first.

        Parameters
        ----------
        state
            ``pending``, ``firing``, ``resolved`` or several; None for the whole history.  Default: the
            active ones.
        rule, region
            Only this rule / district code.

        Returns
        -------
        pandas.DataFrame
            ``id, rule, subject, region, severity, state, value, message, started_period, last_period,
            resolved_period, fired_at, resolved_at, recipients``.
        """
        states = [state] if isinstance(state, str) else list(state) if state is not None else []
        from .store import alerts as alerts_q

        return alerts_q.alert_events(self.store, states=states, rule=rule, region=region)

    # ------------------------------------------------------------------ forecasts
    def forecasts(self, series: str | None = None, *, origin: object = "latest",
                  model: str | None = None) -> pd.DataFrame:
        """Stored forecasts (table ``forecast``) with their 80 % and 95 % intervals.

        Parameters
        ----------
        series
            A key or glob; default every forecast series.
        origin
            The month forecast from; ``"latest"`` (default) the newest origin of each series, None all.
        model
            Only this model (``combination`` is what the publications print).

        Returns
        -------
        pandas.DataFrame
            ``series_key, origin, period, horizon, model, mean, lower_80, upper_80, lower_95, upper_95``;
            ``origin`` and ``period`` are monthly ``Period`` values.

        Examples
        --------
        >>> f = store.forecasts("pmi/headline")                            # doctest: +SKIP
        >>> monitor.plots.fan_chart(store.series("pmi/headline")["value"], f)   # doctest: +SKIP
        """
        import pandas as pd

        from .store import forecasts as forecasts_q

        rows = forecasts_q.forecast_rows(self.store)
        if series is not None and len(rows):
            rx = _glob_regex(series)
            rows = rows[rows["series_key"].map(lambda k: bool(rx.match(k)))]
        if model is not None:
            rows = rows[rows["model"] == model]
        if origin == "latest" and len(rows):
            newest = rows.groupby("series_key")["origin"].transform("max")
            rows = rows[rows["origin"] == newest]
        elif origin is not None and origin != "latest":
            rows = rows[rows["origin"] == str(_month(origin))]
        rows = rows.copy()
        rows["origin"] = pd.PeriodIndex(rows["origin"].astype(str), freq="M") if len(rows) else rows["origin"]
        rows["period"] = pd.PeriodIndex(rows["period"].astype(str), freq="M") if len(rows) else rows["period"]
        rows.insert(3, "horizon", [(p - o).n for p, o in zip(rows["period"], rows["origin"], strict=True)])
        return rows.sort_values(["series_key", "origin", "model", "period"]).reset_index(drop=True)

    def nowcasts(self, origin: object = None) -> pd.DataFrame:
        """Stored nowcasts (table ``nowcast``) of the official target (``nowcast.target``), newest origin first.

        Returns
        -------
        pandas.DataFrame
            The table's columns (``series_key, region, origin, period, model, mean, lower_80, ...,
            previous, converged, news`` ...); see :meth:`news` for the news as a frame.
        """
        from .nowcasts import read_nowcasts

        return read_nowcasts(self.store, None if origin is None else str(_month(origin)))

    def news(self, origin: object = None, *, region: str | None = None) -> pd.DataFrame:
        """The news of the nowcast: how the new data of each input moved it since the previous origin.

        Parameters
        ----------
        origin
            The origin month; default the newest.
        region
            A region code; default all.

        Returns
        -------
        pandas.DataFrame
            One row per nowcast month and input: ``region, origin, target_period, series, period, actual,
            expected, weight, impact`` (the fields of ``nowcast.news``); empty when the first origin had
            no predecessor.
        """
        import pandas as pd

        frame = self.nowcasts(origin)
        if frame.empty:
            return pd.DataFrame(columns=["region", "origin", "target_period", "series", "period", "actual",
                                         "expected", "weight", "impact"])
        if origin is None:
            frame = frame[frame["origin"] == frame["origin"].max()]
        if region is not None:
            frame = frame[frame["region"] == region]
        rows = []
        for _, r in frame.iterrows():
            for item in json.loads(r["news"] or "[]"):
                rows.append({"region": r["region"], "origin": r["origin"], "target_period": r["period"], **item})
        return pd.DataFrame(rows)

    def target_odds(self, origin: object = None) -> pd.DataFrame:
        """Probabilities of meeting the annual targets (table ``target_odds``), newest origin first."""
        from .nowcasts import read_target_odds

        return read_target_odds(self.store, None if origin is None else str(_month(origin)))


    def track_record(self, series: str | None = None, *, origin: object = None) -> pd.DataFrame:
        """How good the forecasts have been, per series and horizon (months ahead).

        Parameters
        ----------
        series
            A key or glob of the forecast series; default all.
        origin
            As known at this origin month (the ``forecast_skill`` stored by the forecast stage, what the
            operation report of that month prints); default None: every outcome known now.

        Returns
        -------
        pandas.DataFrame
            ``series_key, horizon, n, mae, mase, coverage_80, coverage_95``: scored forecasts, mean absolute
            error, MASE against seasonal naive (below 1 beats it) and the shares of outcomes inside the 80 %
            and 95 % intervals.
        """
        from .track_record import forecast_skill, read_skill

        frame = forecast_skill(self.store, self.settings) if origin is None else \
            read_skill(self.store, str(_month(origin))).drop(columns=["origin"], errors="ignore")
        if series is not None and len(frame):
            rx = _glob_regex(series)
            frame = frame[frame["series_key"].map(lambda k: bool(rx.match(k)))]
        return frame.reset_index(drop=True)

    def leading_indicators(self, region: str | None = None) -> pd.DataFrame:
        """The composite leading indicators (``cli/...`` series) with their lead and latest turning point.

        Returns
        -------
        pandas.DataFrame
            One row per region: ``region, series_key, period`` (latest month), ``value`` (100 = trend),
            ``lead`` (months ahead of value-added growth), ``turn`` (``peak``/``trough``), ``turn_period``,
            ``months_ago``, ``phase`` (expansion, downturn, slowdown, recovery).
        """
        import pandas as pd

        from .leading import leading_signal
        from .reference import CITY_CODE
        from .results import read_series

        frame = read_series(self.store, "cli/*")
        rows = []
        for key, g in frame.groupby("series_key"):
            if key.startswith(("cli/reference/", "cli/lead/")):
                continue
            code = CITY_CODE if key == "cli/city" else key.rsplit("/", 1)[-1]
            if region is not None and code != region:
                continue
            values = g["raw"].dropna()
            lead = frame[frame["series_key"] == key.replace("cli/", "cli/lead/", 1)]["raw"].dropna()
            signal = leading_signal(values)
            rows.append({"region": code, "series_key": key, "period": values.index[-1],
                         "value": float(values.iloc[-1]), "lead": float(lead.iloc[-1]) if len(lead) else None,
                         "turn": signal["kind"], "turn_period": signal["period"], "months_ago": signal["months_ago"],
                         "phase": signal["phase"]})
        return pd.DataFrame(rows, columns=["region", "series_key", "period", "value", "lead", "turn", "turn_period",
                                           "months_ago", "phase"])


def open(target: str | PathLike[str] | None = None, *, config: str | PathLike[str] | None = None,
         settings: Settings | None = None) -> AnalystStore:
    """Open a store for analysis.

    Parameters
    ----------
    target
        A SQLAlchemy URL (``sqlite:///var/imon.sqlite``, ``postgresql+psycopg://...``) or the path of a
        SQLite file.  Default: the store of the configuration (``store.url``, ``IMON_DATABASE_URL``, or
        ``<data_dir>/imon.sqlite``), as ``imon`` uses it.
    config
        A config file (default ``IMON_CONFIG`` or ``./imon.toml``, as for ``imon``).
    settings
        Settings already loaded (overrides ``config``).

    Returns
    -------
    AnalystStore

    Raises
    ------
    StoreUnreachableError, StoreRevisionError
        When the database cannot be reached or is at an older schema (run ``imon db upgrade``).

    Examples
    --------
    >>> import monitor
    >>> with monitor.open("sqlite://") as store:      # an empty in-memory store
    ...     store.keys("pmi/**")
    []
    """
    from .settings import load_settings
    from .store import Store

    resolved = settings if settings is not None else load_settings(config)
    url = resolved.store_url if target is None else _url(target)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        raise FileNotFoundError(f"no store at {url[len('sqlite:///'):]}: run `imon demo` to build the demo store, "
                                "or pass monitor.open(URL_OR_PATH), or set IMON_DATABASE_URL")
    return AnalystStore(Store.open(url, echo=resolved["store.echo"]), resolved)

