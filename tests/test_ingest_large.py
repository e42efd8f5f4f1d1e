"""A 200 MB utility export through the real command line: a clean ingest with flat memory."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from collectors.uscc import make_uscc
from monitor.settings import load_settings
from monitor.store import models as m
from monitor.store import open_store


@pytest.mark.slow
def test_200_mb_export_streams_in_flat_memory(tmp_path):
    accounts, days = 20_000, 340
    usccs = [make_uscc("440112", f"{i:08d}") for i in range(accounts // 2)]
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})
    with open_store(settings) as store, store.begin() as conn:
        store.bulk_insert(m.Enterprise, pd.DataFrame({
            "uscc": usccs, "name_zh": "企业", "district_code": "440112", "industry_code": "39",
            "size_class": "small", "sample_weight": 1.0, "panel_start": "2016-01"}), conn=conn)
    names = np.array([f"0300{i:08d}" for i in range(accounts)], dtype=object)
    pd.DataFrame({"account_no": names, "uscc": [usccs[i // 2] for i in range(accounts)]}).to_csv(
        tmp_path / "accounts.csv", index=False)
    rng = np.random.default_rng(5)
    feed = tmp_path / "utility_export.csv"
    day_text = pd.date_range("2016-01-01", periods=days).strftime("%Y-%m-%d").to_numpy(dtype=object)
    with feed.open("w", encoding="utf-8") as fh:
        fh.write("户号,日期,用电量(kWh)\n")
        for block in np.array_split(np.arange(accounts), 20):
            part = pd.DataFrame({"a": np.repeat(names[block], days), "d": np.tile(day_text, len(block)),
                                 "k": np.round(rng.gamma(2.0, 5000.0, len(block) * days), 3)})
            part.to_csv(fh, header=False, index=False)
    assert feed.stat().st_size > 200e6
    config = tmp_path / "imon.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\n', "utf-8")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "collect",
                                 str(tmp_path / "accounts.csv"), str(feed)], stdout=o, stderr=e, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024
    assert proc.returncode == 0, err.read_text()
    assert f"{accounts * days:,} rows read, {accounts * days:,} new or changed" in out.read_text()
    assert peak_mb < 600, f"peak resident memory {peak_mb:.0f} MB for a 200 MB file"
    with open_store(settings) as store:
        assert store.count(m.ElectricityAccountReading) == accounts * days
        assert store.count(m.ElectricityReading) == accounts // 2 * days
