"""``imon`` config, db and survey: settings, the store's schema, questionnaires and returns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..settings import settings_markdown
from ._app import _Context, _end_progress, _month_option, _progress_printer, cli


# ---------------------------------------------------------------------------------------------- config
@cli.group()
def config() -> None:
    """Inspect the settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML-like lines.")
@click.pass_obj
def config_show(obj: _Context, as_json: bool) -> None:
    """Print the effective settings, where each came from, secrets masked."""
    settings = obj.settings()
    if as_json:  # plain JSON values, not TOML text inside JSON strings (issue 13)
        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in settings.display(as_toml=False)},
                              ensure_ascii=False, indent=2, default=str))
        return
    rows = settings.display()
    if settings.config_path:
        click.echo(f"# config file: {settings.config_path}")
    width = max(len(k) + len(v) for k, v, _ in rows) + 3
    for key, value, source in rows:
        click.echo(f"{key} = {value}".ljust(width) + f"  # {source}")


@config.command("doc")
def config_doc() -> None:
    """Print the Markdown reference of every setting (as in the README)."""
    click.echo(settings_markdown())


# ---------------------------------------------------------------------------------------------- db
@cli.group()
def db() -> None:
    """Store schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def db_upgrade(obj: _Context, revision: str) -> None:
    """Apply schema migrations to the store (a new store is migrated automatically)."""
    from ..store.migrate import upgrade_store

    settings = obj.settings()
    before, after = upgrade_store(settings.store_url, revision, echo=settings["store.echo"])
    click.echo(f"store schema: {before or '(empty)'} -> {after}" if before != after else f"store schema at {after}")


@db.command("status")
@click.pass_obj
def db_status(obj: _Context) -> None:
    """Show the store's location, schema revision and row counts."""
    from ..store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        from ..store.migrate import current_revision

        click.echo(f"store: {store.url}")
        click.echo(f"schema revision: {current_revision(store.engine)}")
        for name, rows in store.table_counts().items():
            click.echo(f"  {name:<26}{rows:>12,}")


# ---------------------------------------------------------------------------------------------- survey
@cli.group()
def survey() -> None:
    """The monthly survey: questionnaires out, response tracking."""


@survey.command("template")
@click.option("--period", required=True, metavar="YYYY-MM", help="Survey month.")
@click.option("--enterprise", metavar="CODE", default=None, help="One enterprise's credit code.")
@click.option("--all", "all_", is_flag=True, help="Every enterprise in the sample for the month.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the workbooks.")
@click.pass_obj
def survey_template(obj: _Context, period: str, enterprise: str | None, all_: bool, out: str) -> None:
    """Write the bilingual questionnaire workbook(s), prefilled with the enterprise."""
    from ..store import open_store
    from ..survey_admin import write_templates

    if bool(enterprise) == all_:
        raise click.UsageError("give either --enterprise CODE or --all")
    month = _month_option(period, "--period")
    show = _progress_printer()  # on a terminal: "… 412/1200 9144…" rewritten in place; nothing when piped
    try:
        with open_store(obj.settings()) as store:
            paths = write_templates(store, month, Path(out), enterprise=enterprise,
                                    progress=(lambda m: show(f"questionnaires {m}")) if show else None)
    finally:
        if show:
            _end_progress()
    click.echo(f"{len(paths)} questionnaire(s) for {month} written to {Path(out).resolve()}")


@survey.command("status")
@click.option("--period", required=True, metavar="YYYY-MM", help="Survey month.")
@click.option("--missing/--no-missing", default=True, show_default=True, help="List the enterprises not yet answered.")
@click.pass_obj
def survey_status_cmd(obj: _Context, period: str, missing: bool) -> None:
    """Response rates by district, division and size, and who is still missing."""
    from ..store import open_store
    from ..survey_admin import survey_status
    from ..textout import table_lines

    settings = obj.settings()
    lang = settings["language"]
    month = _month_option(period, "--period")
    with open_store(settings) as store:
        st = survey_status(store, month, lang=lang)
    zh = lang == "zh"
    click.echo((f"{st.period} 问卷回收：{st.responded}/{st.sample}" if zh else
                f"{st.period} returns: {st.responded}/{st.sample}") +
               (f" ({st.responded / st.sample:.1%})" if st.sample else ""))
    for line in _respondent_lines(st, zh):
        click.echo(line)
    heads = ["样本", "已回收", "回收率"] if zh else ["sample", "returned", "rate"]
    for title, frame in ((("辖区", "District"), st.by_district), (("规模", "Size"), st.by_size),
                         (("行业大类", "Division"), st.by_industry)):
        shown = frame.assign(rate=frame["rate"].map("{:.1%}".format))
        click.echo("")
        for line in table_lines(shown, [title[0] if zh else title[1], *heads]):
            click.echo(line)
    if missing and len(st.missing):
        click.echo("")
        click.echo(f"未回收（{len(st.missing)}）" if zh else f"Not yet returned ({len(st.missing)})")
        for line in table_lines(st.missing, ["统一社会信用代码", "企业名称", "辖区", "行业", "规模"] if zh else
                                ["credit code", "name", "district", "division", "size"]):
            click.echo(line)


def _respondent_lines(st: Any, zh: bool) -> list[str]:
    """How the returns counted here relate to the respondents the PMI release prints (the same definition as
    the compute stage, :func:`monitor.survey_admin.headline_respondents`), and why they differ."""
    lines = [(f"计入PMI的有效问卷：{st.in_headline}份（五个分项各自的应答企业数中最少者，即PMI发布稿的“有效回收问卷”）"
              if zh else f"valid returns in the PMI: {st.in_headline} (the smallest number of respondents to any of "
              "the five component questions: the release's count)")]
    if st.responded != st.in_headline:
        lines.append(f"  与已回收{st.responded}份相差{st.responded - st.in_headline}份：{st.incomplete}份问卷缺少PMI分项"
                     "的回答（未答的分项不计入该分项，也不计入PMI）" if zh else
                     f"  {st.responded - st.in_headline} fewer than the {st.responded} returns: {st.incomplete} "
                     "return(s) leave a PMI component question unanswered (not counted for it, nor in the PMI)")
    if st.stored_headline is not None and st.stored_headline != st.in_headline:
        lines.append(f"  已计算的PMI基于{st.stored_headline}份（计算之后问卷有变化：运行 imon compute "
                     f"--period {st.period} 后发布稿与此一致）" if zh else
                     f"  the stored PMI rests on {st.stored_headline} (returns changed after it was computed: run "
                     f"imon compute --period {st.period} and the release will agree)")
    return lines
