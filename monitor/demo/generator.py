"""The demo panel generator: a synthetic sample that behaves like the real thing.

:func:`generate_demo` is pure (no I/O but the package's calibration files) and
deterministic for a seed: each step draws from its own child of
``numpy.random.SeedSequence(seed)``, so changing one step does not reshuffle
the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..calendar import daily_calendar, spring_festival_dates
from ..exceptions import DemoError
from ..periods import month_range
from .cycle import FIRST_MONTH, city_cycle
from .operations import draw_accounts, draw_official, draw_operations, draw_targets
from .panel import build_panel
from .survey import draw_status, draw_survey, festival_share

__all__ = ["DemoParams", "DemoData", "check_demo_range", "generate_demo", "GENERATOR_VERSION"]

log = logging.getLogger(__name__)

#: Bump when the generator's output changes for a given seed (stores rebuild).
GENERATOR_VERSION = 4


@dataclass(frozen=True)
class DemoParams:
    """Parameters of a demo build."""

    seed: int
    enterprises: int
    start: pd.Period
    end: pd.Period

    def as_dict(self) -> dict[str, object]:
        return {"seed": self.seed, "enterprises": self.enterprises, "start": str(self.start), "end": str(self.end),
                "generator_version": GENERATOR_VERSION}

    def fingerprint(self) -> str:
        """SHA-256 of the parameters and the generator version."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()

    def command(self) -> str:
        return (f"imon demo --seed {self.seed} --enterprises {self.enterprises} "
                f"--start {self.start} --end {self.end}")


@dataclass
class DemoData:
    """Every table of a demo build, as frames ready for the store.

    ``cycle`` is the truth the survey was drawn from: the city's latent
    seasonally adjusted diffusion index per question and the headline PMI built
    from it.
    """

    params: DemoParams
    enterprises: pd.DataFrame
    responses: pd.DataFrame
    history: pd.DataFrame
    problems: pd.DataFrame
    electricity: pd.DataFrame
    monthly: pd.DataFrame
    official: pd.DataFrame
    targets: pd.DataFrame
    cycle: pd.DataFrame
    accounts: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)


def check_demo_range(enterprises: int, start: pd.Period, end: pd.Period) -> pd.PeriodIndex:
    """Validate a demo's size and months; return the months.

    Raises
    ------
    DemoError
        Fewer than 20 enterprises, a start before 2005-01, or fewer than 13 months.
    """
    if enterprises < 20:
        raise DemoError(f"--enterprises must be at least 20 (a panel needs some firms per district); got {enterprises}")
    if start < FIRST_MONTH:
        raise DemoError(f"the demo starts no earlier than {FIRST_MONTH} (the NBS PMI calibration data); got {start}")
    months = month_range(start, end)
    if len(months) < 13:
        raise DemoError(f"the demo needs at least 13 months (growth rates compare with a year before); "
                        f"{start}..{end} has {len(months)}: widen --start/--end")
    return months


def generate_demo(
    *,
    seed: int,
    enterprises: int,
    start: pd.Period,
    end: pd.Period,
    progress: Callable[[str], None] | None = None,
) -> DemoData:
    """Generate a demo panel.

    Parameters
    ----------
    seed
        Seed; the same seed and parameters give identical frames.
    enterprises
        Enterprises active in each month (rotation adds replacements over time).
    start, end
        First and last month (``start`` not before 2005-01; at least 13 months).
    progress
        Called with the name of each step as it starts.

    Returns
    -------
    DemoData

    Raises
    ------
    DemoError
        For a range or size the generator cannot build.
    """
    months = check_demo_range(enterprises, start, end)
    params = DemoParams(seed, enterprises, start, end)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    timings: dict[str, float] = {}

    def step(name: str) -> None:
        timings[name] = time.perf_counter()
        if progress:
            progress(name)
        log.info("demo generator: %s", name)

    step("cycle")
    cycle = city_cycle(start, end, streams[0])
    step("panel")
    panel = build_panel(months, enterprises, streams[1])
    F, T = panel.active.shape
    firm = np.empty((F, T))
    firm_rng = streams[2]
    firm[:, 0] = firm_rng.normal(0, 1, F)
    innov = firm_rng.normal(0, np.sqrt(1 - 0.75**2), (F, T))
    for t in range(1, T):
        firm[:, t] = 0.75 * firm[:, t - 1] + innov[:, t]
    step("survey")
    festival = festival_share(months, spring_festival_dates())
    status = draw_status(panel, firm, streams[3])
    survey = draw_survey(panel, cycle, festival, firm, status, streams[4])
    step("operations")
    calendar = daily_calendar(months[0].start_time.date(), months[-1].end_time.date())
    ops = draw_operations(panel, cycle, survey.latent, status, survey.responded, calendar, festival, streams[5])
    step("official")
    official = draw_official(panel, ops.real_output, cycle, streams[6])
    targets = draw_targets(panel, streams[7])
    accounts = draw_accounts(panel, streams[8])
    step("done")
    marks = list(timings.items())
    durations = {name: marks[i + 1][1] - t0 for i, (name, t0) in enumerate(marks[:-1])}
    durations["total"] = marks[-1][1] - marks[0][1]
    ent = panel.enterprises.drop(columns=["start_idx", "end_idx", "slot"])
    return DemoData(params, ent, survey.responses, survey.history, survey.problems, ops.electricity, ops.monthly,
                    official, targets, cycle, accounts, durations)
