"""The `ringcore` command runs end to end (its speed is not asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ringcore
from ringcore import benchmark, cli


def test_bench_json_has_every_case_with_ringcore_first(capsys):
    assert cli.main(["bench", "--keys", "3000", "--int-keys", "3000", "--repeat", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    cases = {}
    for row in result["rows"]:
        cases.setdefault(row["case"], []).append(row)
        if row["unit"] == "ns/key":  # each row's time in a field named for its unit
            assert row["ns_per_key"] > 0 and row["keys_per_s"] > 0 and "ms" not in row
        else:
            assert row["unit"] == "ms" and row["ms"] > 0
            assert "ns_per_key" not in row and "keys_per_s" not in row
    assert {"ns/key", "ms"} <= {row["unit"] for row in result["rows"]}
    for case, rows in cases.items():
        assert rows[0]["impl"] == "ringcore", case
        assert rows[0]["ratio"] == 1.0
    names = " ".join(cases)
    for expected in ("build", "get_node", "route(list[str])", "route(numpy S", "route(uint64",
                     "route_hashes"):
        assert expected in names
    assert result["load"]["mean"] == pytest.approx(3000 / 100)
    assert result["memory"]["bytes_per_point"] == pytest.approx(12, abs=0.01)  # plus a sentinel
    assert result["versions"]["numpy"]


def test_bench_table_and_bad_arguments(capsys):
    assert cli.main(["bench", "--keys", "2000", "--int-keys", "2000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ringcore" in out and "ns" in out and "per-node load" in out
    with pytest.raises(SystemExit):
        benchmark.main(["--keys", "0"])


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "bench.png"
    assert cli.main(["bench", "--keys", "2000", "--int-keys", "2000", "--repeat", "1",
                     "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_command_and_help(tmp_path):
    assert cli.main(["nope"]) == 2
    assert cli.main(["--help"]) == 0
    env = dict(os.environ, PYTHONPATH=str(Path(ringcore.__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-m", "ringcore", "--help"], capture_output=True,
                          text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0 and "bench" in done.stdout


def test_bench_scale_sweeps_ring_sizes(capsys, tmp_path):
    args = ["bench", "--scale", "--scale-nodes", "5,10", "--vnodes", "16", "--int-keys", "2000",
            "--keys", "500", "--repeat", "1"]
    assert cli.main(args + ["--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    sizes = sorted({row["points"] for row in result["rows"]})
    assert sizes == [80, 160]
    cases = {row["case"] for row in result["rows"]}
    for expected in ("route_hashes(uint64)", "route(list[str])", "build", "add_node",
                     "unpickle", "memory"):
        assert expected in cases
    assert all(row["value"] >= 0 for row in result["rows"])
    assert cli.main(args) == 0
    table = capsys.readouterr().out
    assert "route_hashes(uint64)" in table and "160" in table
    with pytest.raises(SystemExit):
        benchmark.main(["--scale", "--scale-nodes", "5,x"])
    with pytest.raises(SystemExit):
        benchmark.main(["--scale", "--scale-nodes", "0"])


def test_bench_plot_problems_are_found_before_the_run(tmp_path, capsys):
    """A missing folder, or no matplotlib, fails at once, not after minutes of timing."""
    import time

    start = time.perf_counter()
    with pytest.raises(SystemExit, match="no folder"):
        benchmark.main(["--plot", str(tmp_path / "none" / "bench.png")])
    code = ("import sys; sys.modules['matplotlib'] = None; from ringcore.cli import main; "
            "sys.exit(main(['bench', '--plot', 'x.png']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 1 and "ringcore[cli]" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.perf_counter() - start < 30  # nothing was timed
    assert not (tmp_path / "x.png").exists()


def test_bench_cli_row_routes_a_parquet_file(capsys):
    pytest.importorskip("pyarrow")
    assert cli.main(["bench", "--cli", "--cli-rows", "3000", "--nodes", "5", "--repeat", "1",
                     "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == 3000
    impls = [r["impl"] for r in result["results"]]
    assert impls[0].startswith("ringcore route") and "library" in impls[1]
    for r in result["results"]:
        assert r["rows_per_s"] > 0 and r["peak_bytes"] > 0


def test_bench_dask_rows_on_a_local_cluster(capsys):
    pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    assert cli.main(["bench", "--dask", "--dask-rows", "4000", "--nodes", "5", "--repeat", "1",
                     "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == 4000 and result["workers"] == 2
    alone, cluster = result["results"]
    assert alone["impl"].startswith("one process") and "LocalCluster" in cluster["impl"]
    assert len(cluster["peak_bytes"]) == 2 and all(p > 0 for p in cluster["peak_bytes"])
