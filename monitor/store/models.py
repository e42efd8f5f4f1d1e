"""SQLAlchemy 2 models of the store: one schema for SQLite and PostgreSQL.

Conventions
-----------
- Months are stored as text ``YYYY-MM`` (sortable, portable); days as ``DATE``.
- Timestamps are naive and in China Standard Time (UTC+8, no daylight saving),
  the bureau's clock; they are never compared across time zones.
- Money is in 10,000 yuan (万元), electricity in kWh.
- Natural keys are unique constraints (or primary keys), so every loader can
  upsert idempotently on them.
- Schema changes go through Alembic (``monitor/store/migrations``); the test
  suite checks that the migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "metadata"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Period = String(7)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    #: Every model maps one table (SQLAlchemy types it as any ``FromClause``).
    __table__: ClassVar[Table]


metadata = Base.metadata


# --------------------------------------------------------------------------- reference data
class District(Base):
    """A district of the city (GB/T 2260 code)."""

    __tablename__ = "district"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))


class Industry(Base):
    """A GB/T 4754-2017 manufacturing division (two-digit code)."""

    __tablename__ = "industry"
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))


class KeySector(Base):
    """A key sector of the city's manufacturing plan."""

    __tablename__ = "key_sector"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))


class IndustryKeySector(Base):
    """Which divisions make up a key sector (many to many)."""

    __tablename__ = "industry_key_sector"
    industry_code: Mapped[str] = mapped_column(ForeignKey("industry.code"), primary_key=True)
    sector_code: Mapped[str] = mapped_column(ForeignKey("key_sector.code"), primary_key=True)


class SizeClass(Base):
    """Enterprise size class with its industry thresholds."""

    __tablename__ = "size_class"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(40))
    min_employees: Mapped[int] = mapped_column(Integer)
    min_revenue: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(SmallInteger)


class Question(Base):
    """One of the 13 PMI survey questions."""

    __tablename__ = "question"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    positive_zh: Mapped[str] = mapped_column(String(10))
    positive_en: Mapped[str] = mapped_column(String(20))
    headline_weight: Mapped[float] = mapped_column(Float)
    inverted: Mapped[bool] = mapped_column(Boolean)
    rank: Mapped[int] = mapped_column(SmallInteger)


class Problem(Base):
    """A "main problem" an enterprise can tick."""

    __tablename__ = "problem"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))


# --------------------------------------------------------------------------- provenance
class IngestSource(Base):
    """One file, feed or generator run that brought data in."""

    __tablename__ = "ingest_source"
    __table_args__ = (UniqueConstraint("kind", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="loaded")
    note: Mapped[str | None] = mapped_column(Text)


class IngestReject(Base):
    """A row of a source that failed validation, with the rule it broke."""

    __tablename__ = "ingest_reject"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("ingest_source.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(8), default="error", server_default="error",
                                          doc="error = row rejected; warning = row kept, flagged for review")
    sheet: Mapped[str | None] = mapped_column(String(80))
    row_number: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(80))
    rule: Mapped[str] = mapped_column(String(80))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


# --------------------------------------------------------------------------- enterprises
class Enterprise(Base):
    """A sample enterprise and its panel membership."""

    __tablename__ = "enterprise"
    __table_args__ = (
        CheckConstraint("sample_weight > 0", name="positive_weight"),
        Index("ix_enterprise_district_industry", "district_code", "industry_code"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"))
    industry_code: Mapped[str] = mapped_column(ForeignKey("industry.code"))
    size_class: Mapped[str] = mapped_column(ForeignKey("size_class.code"))
    employees: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[float | None] = mapped_column(Float, doc="main-business revenue of the year before joining, 10k yuan")
    sample_weight: Mapped[float] = mapped_column(Float, default=1.0)
    prn: Mapped[float | None] = mapped_column(Float, doc="permanent random number for rotation")
    panel_group: Mapped[int | None] = mapped_column(SmallInteger)
    panel_start: Mapped[str] = mapped_column(Period, doc="first month in the panel")
    panel_end: Mapped[str | None] = mapped_column(Period, doc="last month in the panel; NULL while active")
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    contact_name: Mapped[str | None] = mapped_column(String(40), doc="the enterprise's contact for the bureau")
    contact_phone: Mapped[str | None] = mapped_column(String(32), doc="the contact's telephone")


# --------------------------------------------------------------------------- observations
class SurveyResponse(Base):
    """The current answer of an enterprise to one question for one month."""

    __tablename__ = "survey_response"
    __table_args__ = (
        CheckConstraint("answer IN (-1, 0, 1)", name="answer_domain"),
        Index("ix_survey_response_period", "period"),
        {"sqlite_with_rowid": False},
    )
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    question: Mapped[str] = mapped_column(ForeignKey("question.code"), primary_key=True)
    answer: Mapped[int] = mapped_column(SmallInteger)
    revision: Mapped[int] = mapped_column(SmallInteger, default=1)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    source_row: Mapped[int | None] = mapped_column(Integer, doc="row or line in the source file")


class SurveyResponseHistory(Base):
    """Answers superseded by a correction: what was known before."""

    __tablename__ = "survey_response_history"
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    question: Mapped[str] = mapped_column(ForeignKey("question.code"), primary_key=True)
    revision: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    answer: Mapped[int] = mapped_column(SmallInteger)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    superseded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    source_row: Mapped[int | None] = mapped_column(Integer, doc="row or line in the source file")


class SurveyProblem(Base):
    """A "main problem" ticked by an enterprise in a month."""

    __tablename__ = "survey_problem"
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    problem: Mapped[str] = mapped_column(ForeignKey("problem.code"), primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    source_row: Mapped[int | None] = mapped_column(Integer, doc="row or line in the source file")


class ElectricityReading(Base):
    """Daily electricity consumption of an enterprise (all its meters summed)."""

    __tablename__ = "electricity_reading"
    __table_args__ = (CheckConstraint("kwh >= 0", name="nonnegative_kwh"), {"sqlite_with_rowid": False})
    # No foreign keys (migration 0013), as on ``electricity_account_reading``: PostgreSQL's per-row trigger of
    # each cost more than the insert of a large feed's sums.  The ingest writes only the enterprise ids it has just
    # joined through ``electricity_account`` (whose own foreign key holds) and the provenance id it has just created.
    enterprise_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kwh: Mapped[float] = mapped_column(Float)
    source_id: Mapped[int | None] = mapped_column(Integer)


class ElectricityAccount(Base):
    """A utility account (meter) and the enterprise it belongs to; an enterprise may have several."""

    __tablename__ = "electricity_account"
    account_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    meter_name: Mapped[str | None] = mapped_column(String(80))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    source_row: Mapped[int | None] = mapped_column(Integer)


class ElectricityAccountReading(Base):
    """Daily consumption of one account as the utility reported it; summed per enterprise into
    ``electricity_reading``."""

    __tablename__ = "electricity_account_reading"
    __table_args__ = (CheckConstraint("kwh >= 0", name="nonnegative_kwh"), {"sqlite_with_rowid": False})
    account_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kwh: Mapped[float] = mapped_column(Float)
    # No foreign keys on this high-volume table: PostgreSQL checks each with a trigger per row, which costs
    # more than the insert itself for tens of millions of readings.  The ingest joins every staged row to
    # ``electricity_account`` and writes only the provenance id it has just created, so no orphan can enter.
    source_id: Mapped[int | None] = mapped_column(Integer)
    source_row: Mapped[int | None] = mapped_column(Integer)


class EnterpriseMonth(Base):
    """An enterprise's monthly report: output, inventory, costs, status."""

    __tablename__ = "enterprise_month"
    __table_args__ = (
        CheckConstraint("production_status IN ('normal', 'semi_stopped', 'stopped')", name="status_domain"),
        CheckConstraint("capacity_utilisation IS NULL OR (capacity_utilisation >= 0 AND capacity_utilisation <= 150)",
                        name="utilisation_range"),
        Index("ix_enterprise_month_period", "period"),
        {"sqlite_with_rowid": False},
    )
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    output_value: Mapped[float | None] = mapped_column(Float)
    electricity_kwh: Mapped[float | None] = mapped_column(Float, doc="self-reported electricity use, kWh")
    sales_value: Mapped[float | None] = mapped_column(Float)
    finished_goods_inventory: Mapped[float | None] = mapped_column(Float)
    raw_material_cost: Mapped[float | None] = mapped_column(Float)
    labour_cost: Mapped[float | None] = mapped_column(Float)
    energy_cost: Mapped[float | None] = mapped_column(Float)
    other_cost: Mapped[float | None] = mapped_column(Float)
    production_status: Mapped[str] = mapped_column(String(16), default="normal")
    capacity_utilisation: Mapped[float | None] = mapped_column(Float, doc="percent")
    revision: Mapped[int] = mapped_column(SmallInteger, default=1)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    source_row: Mapped[int | None] = mapped_column(Integer, doc="row or line in the source file")


class OfficialStatistic(Base):
    """A published official figure: series x region x period (month ``YYYY-MM`` or year ``YYYY``)."""

    __tablename__ = "official_statistic"
    series: Mapped[str] = mapped_column(String(80), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))
    source_row: Mapped[int | None] = mapped_column(Integer, doc="row or line in the source file")


class Target(Base):
    """An annual target: ``indicator comparison value`` for a region and year."""

    __tablename__ = "target"
    __table_args__ = (CheckConstraint("comparison IN ('>=', '<=')", name="comparison_domain"),)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(80), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    comparison: Mapped[str] = mapped_column(String(2))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"))


# --------------------------------------------------------------------------- results
class SeriesValue(Base):
    """One value of a computed series (``pmi/headline``, ...) in one vintage (the UTC timestamp of the compute or
    adjustment run that wrote it: :mod:`monitor.store.vintages`; a date before migration 0008)."""

    __tablename__ = "series_value"
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    vintage: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    raw: Mapped[float | None] = mapped_column(Float)
    sa: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class VintageLock(Base):
    """A vintage of a series that a final edition read: it never changes (issue 13, migration 0008)."""

    __tablename__ = "vintage_lock"
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    vintage: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    publication_id: Mapped[int] = mapped_column(Integer)


class Forecast(Base):
    """A forecast of a series from an origin month, by one model."""

    __tablename__ = "forecast"
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    origin: Mapped[str] = mapped_column(Period, primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    model: Mapped[str] = mapped_column(String(40), primary_key=True)
    mean: Mapped[float] = mapped_column(Float)
    lower_80: Mapped[float | None] = mapped_column(Float)
    upper_80: Mapped[float | None] = mapped_column(Float)
    lower_95: Mapped[float | None] = mapped_column(Float)
    upper_95: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ForecastSpec(Base):
    """The default forecaster's specification of a series, kept between annual reviews (issue 14).

    ``spec`` is :meth:`forecasting.ensemble.ForecastSpec.as_dict` as JSON (ARIMA orders and parameters, ETS
    form, interval scale, calendar); ``identified`` the origin month of the identification.  The forecast stage
    re-estimates only the parameters from it until ``forecast.review_months`` have passed (or ``--reidentify``).
    """

    __tablename__ = "forecast_spec"
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    identified: Mapped[str] = mapped_column(Period)
    spec: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ForecastSkill(Base):
    """The track record of a series' forecasts at one horizon, as known at an origin month (issue 15).

    Computed by the forecast stage from the forecasts made at earlier origins whose outcome was known by
    ``origin``: ``n`` scored forecasts, mean absolute error, MASE (errors scaled by the in-sample mean absolute
    seasonal difference of the history to each forecast's origin: below 1 beats seasonal naive) and the share
    of outcomes inside the 80 % and 95 % intervals.
    """

    __tablename__ = "forecast_skill"
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    origin: Mapped[str] = mapped_column(Period, primary_key=True)
    horizon: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    mae: Mapped[float | None] = mapped_column(Float)
    mase: Mapped[float | None] = mapped_column(Float)
    coverage_80: Mapped[float | None] = mapped_column(Float)
    coverage_95: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Publication(Base):
    """A published document (PMI release, operation report, ...)."""

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("kind", "period", "lang", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(Period)
    lang: Mapped[str] = mapped_column(String(5))
    version: Mapped[int] = mapped_column(SmallInteger, default=1)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    files: Mapped[str] = mapped_column(Text, doc="JSON list of file names")
    checksum: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # columns added by the publications work (issue 7, migration 0006): see the section at the end
    release_at: Mapped[dt.datetime | None] = mapped_column(DateTime, doc="configured release time (CST)")
    note: Mapped[str | None] = mapped_column(Text, doc="correction note of an edition after the first")
    inputs: Mapped[str | None] = mapped_column(Text, doc="JSON: series vintages and recorded query rows used")
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))


class AlertEvent(Base):
    """One alert's life: pending -> firing -> resolved."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_rule_subject", "rule", "subject"),
                      UniqueConstraint("fingerprint", "started_period"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(160))
    region: Mapped[str | None] = mapped_column(String(6))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)
    started_period: Mapped[str] = mapped_column(Period)
    fired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # issue 8 (migration 0005)
    fingerprint: Mapped[str | None] = mapped_column(String(16), index=True, doc="hash of rule and subject")
    recipients: Mapped[str | None] = mapped_column(String(80), doc="recipient group the alert is routed to")
    last_period: Mapped[str | None] = mapped_column(Period, doc="last data month in which the condition held")
    resolved_period: Mapped[str | None] = mapped_column(Period)
    labels: Mapped[str | None] = mapped_column(Text, doc="JSON: series, district, parameters for the message")
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    notified_state: Mapped[str | None] = mapped_column(String(16), doc="last state a notice was queued for")
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Notification(Base):
    """A message sent (or attempted) about alert events."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_event_id: Mapped[int | None] = mapped_column(ForeignKey("alert_event.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    status: Mapped[str] = mapped_column(String(16))
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # issue 8 (migration 0005): every delivery attempt of a digest is one row
    message_id: Mapped[int | None] = mapped_column(ForeignKey("notification_message.id", ondelete="CASCADE"),
                                                   index=True)


class JobRun(Base):
    """One run of a pipeline stage or scheduled job."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job", "started_at"),
                      UniqueConstraint("job", "scheduled_for"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    period: Mapped[str | None] = mapped_column(Period)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    items_ok: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # issue 8 (migration 0005): scheduled runs carry their trigger time; one run per (job, scheduled_for)
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(DateTime)
    scheduler: Mapped[str | None] = mapped_column(String(200), doc="owner of the scheduler lock that ran it")


class SeriesAdjustment(Base):
    """One seasonal adjustment of a stored series, per vintage: the model, the diagnostics, the outcome.

    ``kind`` is ``concurrent`` (re-estimated with all data), ``review`` (the annual review: estimated with data to
    December of the year before, ``factors`` holds the combined seasonal and calendar factors projected for the
    review year as JSON ``{"YYYY-MM": factor}``) or ``projected`` (a month adjusted with those factors).
    ``status`` is ``ok``, ``failed`` (``error`` says why) or ``skipped`` (too short; ``error`` gives the rule).
    ``fingerprint`` hashes the input values and options: an unchanged series is not re-estimated.
    """

    __tablename__ = "series_adjustment"
    __table_args__ = (CheckConstraint("status IN ('ok', 'failed', 'skipped')", name="status"),)
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    vintage: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="concurrent")
    status: Mapped[str] = mapped_column(String(8))
    method_used: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(40), doc="ARIMA orders, e.g. (0 1 1)(0 1 1)")
    mode: Mapped[str | None] = mapped_column(String(16), doc="additive | log-additive | multiplicative")
    first_period: Mapped[str | None] = mapped_column(Period)
    last_period: Mapped[str | None] = mapped_column(Period)
    m7: Mapped[float | None] = mapped_column(Float)
    q: Mapped[float | None] = mapped_column(Float)
    qs_p: Mapped[float | None] = mapped_column(Float, doc="QS p-value of the outlier-adjusted SA series")
    light: Mapped[str | None] = mapped_column(String(8), doc="green | amber | red")
    festival_t: Mapped[float | None] = mapped_column(Float, doc="signed t of the largest Spring Festival regressor")
    working_day_t: Mapped[float | None] = mapped_column(Float)
    n_outliers: Mapped[int | None] = mapped_column(Integer)
    factors: Mapped[str | None] = mapped_column(Text, doc="JSON of projected factors (annual review)")
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    spec: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    adjusted_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Nowcast(Base):
    """A nowcast of a target series (industrial value added growth) for one month, from one origin.

    ``origin`` is the month whose data were the latest in hand; ``period`` the month nowcast (the origin
    itself, before the official figure, and the months up to the end of its quarter).  ``converged`` and
    ``iterations`` report the EM estimation of the dynamic factor model; ``news`` is JSON: the revision of
    the nowcast since the previous origin split by the series whose new data caused it
    (``[{"series": ..., "period": ..., "actual": ..., "expected": ..., "weight": ..., "impact": ...}]``).
    """

    __tablename__ = "nowcast"
    series_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    origin: Mapped[str] = mapped_column(Period, primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    mean: Mapped[float] = mapped_column(Float)
    lower_80: Mapped[float | None] = mapped_column(Float)
    upper_80: Mapped[float | None] = mapped_column(Float)
    lower_95: Mapped[float | None] = mapped_column(Float)
    upper_95: Mapped[float | None] = mapped_column(Float)
    previous: Mapped[float | None] = mapped_column(Float, doc="the nowcast of the same month from the previous origin")
    converged: Mapped[bool] = mapped_column(Boolean)
    iterations: Mapped[int | None] = mapped_column(Integer)
    log_likelihood: Mapped[float | None] = mapped_column(Float)
    inputs: Mapped[str | None] = mapped_column(Text, doc="JSON list of the input series")
    news: Mapped[str | None] = mapped_column(Text, doc="JSON news decomposition against the previous origin")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class TargetOdds(Base):
    """The probability that an annual target is met, as seen from an origin month.

    ``ytd`` is the year-to-date value at the origin; ``expected``/``lower_80``/``upper_80`` describe the
    simulated distribution of the full-year value; ``probability`` is the share of simulated paths that meet
    ``comparison value`` of the target.  ``required`` is the average growth the remaining months need.
    """

    __tablename__ = "target_odds"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(80), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    origin: Mapped[str] = mapped_column(Period, primary_key=True)
    comparison: Mapped[str] = mapped_column(String(2))
    target: Mapped[float] = mapped_column(Float)
    ytd: Mapped[float | None] = mapped_column(Float)
    required: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    lower_80: Mapped[float | None] = mapped_column(Float)
    upper_80: Mapped[float | None] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(40))
    simulations: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --------------------------------------------------------------------------- publications (issue 7)
# (publication tables and columns added by the publications work go here)
# ``publication`` (above) gained ``release_at``, ``note``, ``inputs`` and ``inputs_sha256`` (migration 0006).
# Drafts are stored as version 0 (replaced by each new draft); final editions are versions 1, 2, ...
# (``final`` true, never rewritten; a correction is the next version with its ``note``).


# --------------------------------------------------------------------------- alerts and scheduling (issue 8)
# (alert, silence, notification-log and scheduler tables added by the early-warning work go here)
# ``alert_event`` (one row per episode of a rule x subject), ``notification`` (the attempt log) and
# ``job_run`` are declared above; issue 8 adds columns to them in migration 0005 and the tables below.
class AlertSilence(Base):
    """A silence: alerts matching it are not notified until ``expires_at`` (or until it is ended).

    ``rule``, ``subject`` and ``region`` are matchers; NULL matches anything, ``subject`` may use ``*`` wildcards.
    """

    __tablename__ = "alert_silence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str | None] = mapped_column(String(80))
    subject: Mapped[str | None] = mapped_column(String(160))
    region: Mapped[str | None] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class NotificationMessage(Base):
    """One digest email to one recipient group, queued before it is sent (the outbox in the database).

    ``dedup_key`` makes queueing idempotent; ``mime`` holds the rendered message so every attempt sends the
    same bytes with the same Message-ID.  ``status`` is ``queued`` until a transport accepts it, then ``sent``.
    """

    __tablename__ = "notification_message"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        CheckConstraint("status IN ('queued', 'sent')", name="status_domain"),
        Index("ix_notification_message_status", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64))
    recipient_group: Mapped[str] = mapped_column(String(80))
    recipients: Mapped[str] = mapped_column(Text, doc="comma-separated addresses")
    subject: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    message_id: Mapped[str] = mapped_column(String(200), doc="the Message-ID header")
    mime: Mapped[str] = mapped_column(Text, doc="the rendered RFC 5322 message")
    status: Mapped[str] = mapped_column(String(8), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationItem(Base):
    """Which alert events (firing, repeat or resolved notices) a digest carries."""

    __tablename__ = "notification_item"
    message_id: Mapped[int] = mapped_column(ForeignKey("notification_message.id", ondelete="CASCADE"),
                                            primary_key=True)
    alert_event_id: Mapped[int] = mapped_column(ForeignKey("alert_event.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), doc="firing | repeat | resolved")


class SchedulerLock(Base):
    """The single-scheduler lock: one row per store, refreshed by the holder's heartbeat."""

    __tablename__ = "scheduler_lock"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), doc="host:pid:token of the holder")
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --------------------------------------------------------------------------- web portal (issue 18)
class AppUser(Base):
    """An account of the web platform: an enterprise, bureau staff, a district official, a leader or an admin.

    ``password_hash`` is an Argon2id hash (NULL until an enterprise activates its account); ``failed_logins``
    and ``locked_until`` implement the lock-out.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role IN ('enterprise', 'staff', 'district', 'leader', 'admin')", name="role_domain"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ActivationCode(Base):
    """A one-time code printed on the survey letter: the enterprise's first login (stored as a SHA-256)."""

    __tablename__ = "activation_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    period: Mapped[str] = mapped_column(Period)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie token, its CSRF token and its expiry."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditLog(Base):
    """Who did what, when and from where (logins, submissions, corrections, administration); never a secret."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(16))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)


class SurveyRound(Base):
    """A month's survey round on the portal: open for returns until staff close it."""

    __tablename__ = "survey_round"
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(80))


class PortalDraft(Base):
    """The questionnaire an enterprise is filling in, saved as a draft (JSON of the form's fields)."""

    __tablename__ = "portal_draft"
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    period: Mapped[str] = mapped_column(Period, primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class PortalSubmission(Base):
    """One submission (or correction) through the portal: its provenance row, user, time and the reasons given
    for the soft warnings it confirmed (JSON)."""

    __tablename__ = "portal_submission"
    __table_args__ = (UniqueConstraint("enterprise_id", "period", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    period: Mapped[str] = mapped_column(Period)
    seq: Mapped[int] = mapped_column(Integer, doc="1 = first submission, 2.. = corrections")
    source_id: Mapped[int] = mapped_column(ForeignKey("ingest_source.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text, doc="the form as submitted (JSON)")
    reasons: Mapped[str | None] = mapped_column(Text, doc="confirmed soft warnings with their reasons (JSON)")


class SurveyFollowup(Base):
    """A note of a phone call (or other follow-up) with an enterprise that has not answered."""

    __tablename__ = "survey_followup"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    period: Mapped[str] = mapped_column(Period)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    channel: Mapped[str] = mapped_column(String(10), default="phone")
    note: Mapped[str] = mapped_column(Text)


class RobotMessage(Base):
    """One digest to one chat robot (WeCom or DingTalk group webhook), queued before it is sent (issue 19).

    ``dedup_key`` makes queueing idempotent; ``payload`` holds the JSON body so every attempt sends the same
    message.  ``status``: ``queued`` until the robot accepts it (``sent``); ``failed`` when the robot refused it
    for good (bad key or signature); ``unknown`` when a request may have reached it (a timeout after sending):
    such a message is never sent again by itself, a person checks the group.
    """

    __tablename__ = "robot_message"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        CheckConstraint("status IN ('queued', 'sent', 'failed', 'unknown')", name="robot_status_domain"),
        Index("ix_robot_message_status", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64))
    recipient_group: Mapped[str] = mapped_column(String(80))
    robot: Mapped[str] = mapped_column(String(80), doc="the robot's name in [alerts.robots]")
    kind: Mapped[str] = mapped_column(String(10), doc="wecom or dingtalk")
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, doc="the JSON body posted to the webhook")
    status: Mapped[str] = mapped_column(String(8), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
