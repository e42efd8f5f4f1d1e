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
    # The child reports its own peak (VmHWM of its address space after exec; the parent's pages don't count).
    probe = ("import sys\nfrom monitor.cli import main\ncode = 0\ntry:\n    main(sys.argv[1:])\n"
             "except SystemExit as exc:\n    code = exc.code or 0\n"
             "peak = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
             "print(f'VmHWM {peak}', file=sys.stderr)\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe, "--config", str(config), "collect",
                           str(tmp_path / "accounts.csv"), str(feed)], capture_output=True, text=True, env=env,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    assert f"{accounts * days:,} rows read, {accounts * days:,} new or changed" in done.stdout
    peak_mb = int(done.stderr.rsplit("VmHWM ", 1)[1].split()[0]) / 1024
    assert peak_mb < 600, f"peak resident memory {peak_mb:.0f} MB for a 200 MB file"
    with open_store(settings) as store:
        assert store.count(m.ElectricityAccountReading) == accounts * days
        assert store.count(m.ElectricityReading) == accounts // 2 * days
