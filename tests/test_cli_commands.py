"""The `ringcore` console script on real files, in subprocesses: lookup, route,
stats and plan give the library's answers, and every error path exits with
its status and one line on standard error, leaving nothing half-written."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ringcore import HashRing

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

SCRIPT = shutil.which("ringcore", path=os.path.dirname(sys.executable))
pytestmark = pytest.mark.skipif(SCRIPT is None, reason="the ringcore console script is not installed")

RING_TOML = """\
vnodes = 64
[[nodes]]
name = "cache-a"
zone = "eu-1a"
[[nodes]]
name = "cache-b"
weight = 2
zone = "eu-1b"
[[nodes]]
name = "cache-c:11211"
zone = "eu-1c"
[[nodes]]
name = "cache/d"
weight = 0.5
zone = "eu-1a"
"""
RING = HashRing({"cache-a": {"weight": 1, "zone": "eu-1a"}, "cache-b": {"weight": 2, "zone": "eu-1b"},
                 "cache-c:11211": {"weight": 1, "zone": "eu-1c"},
                 "cache/d": {"weight": 0.5, "zone": "eu-1a"}}, vnodes=64)
KEYS = [f"user:{i}" for i in range(5000)] + ["", "é-ünïcode", "tab\there"]


def run(*args: str, input: bytes | None = None, cwd: Path | None = None,
        check: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([SCRIPT, *args], input=input, capture_output=True, cwd=cwd, timeout=120)
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stderr.decode())
    return done


def one_error_line(done: subprocess.CompletedProcess, *words: str) -> str:
    err = done.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def no_temporaries(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if ".ringcore-" in p.name]
    assert not left, left


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "ring.toml").write_text(RING_TOML)
    (tmp_path / "ring.json").write_text(json.dumps(
        {"vnodes": 64, "nodes": [{"name": n, **{k: v for k, v in spec.items()}}
                                 for n, spec in [("cache-a", {"zone": "eu-1a"}),
                                                 ("cache-b", {"weight": 2, "zone": "eu-1b"}),
                                                 ("cache-c:11211", {"zone": "eu-1c"}),
                                                 ("cache/d", {"weight": 0.5, "zone": "eu-1a"})]]}))
    text = "\n".join(KEYS[:-1]) + "\n"
    (tmp_path / "keys.txt").write_bytes(text.encode())
    (tmp_path / "keys-crlf.txt").write_bytes(text.replace("\n", "\r\n").encode()[:-2])
    table = pa.table({"id": KEYS, "amount": [i * 0.5 for i in range(len(KEYS))],
                      "count": list(range(len(KEYS)))})
    pq.write_table(table, tmp_path / "keys.parquet", row_group_size=700)
    pacsv.write_csv(table, tmp_path / "keys.csv")
    return tmp_path


def owners_of(keys: list) -> list[str]:
    return [RING.nodes[i] for i in RING.route(keys)]


# -- the ring file ---------------------------------------------------------------------


@pytest.mark.parametrize("ring_file", ["ring.toml", "ring.json"])
def test_lookup_prints_key_tab_owner_and_replicas(files, ring_file):
    keys = ["user:1", "user:2", "é"]
    out = run("lookup", *keys, "--ring", str(files / ring_file)).stdout.decode()
    assert out.splitlines() == [f"{k}\t{RING.get_node(k)}" for k in keys]
    out = run("lookup", *keys, "--ring", str(files / ring_file), "--replicas", "3").stdout.decode()
    assert out.splitlines() == [k + "\t" + "\t".join(RING.get_nodes(k, 3)) for k in keys]
    out = run("lookup", "k1", "--ring", str(files / ring_file), "--replicas", "3",
              "--distinct-zones", "--json").stdout
    (row,) = json.loads(out)
    assert row == {"key": "k1", "nodes": RING.layout.route_replicas(["k1"], 3, distinct_zones=True)
                   .tolist()[0] and [RING.nodes[i] for i in RING.layout.route_replicas(
                       ["k1"], 3, distinct_zones=True)[0]]}


def test_nodes_vnodes_and_dialect_on_the_command_line():
    ring = HashRing(["a", "b", "c"], vnodes=10, dialect="ketama")
    out = run("lookup", "x", "y", "--nodes", "a,b,c", "--vnodes", "10", "--dialect", "ketama")
    assert out.stdout.decode().splitlines() == [f"x\t{ring.get_node('x')}", f"y\t{ring.get_node('y')}"]


@pytest.mark.parametrize("content, words", [
    ("vnodes = 64\n[[nodes]]\nname = 'a'\nweigth = 2\n", ["unknown field 'weigth'", "node 1"]),
    ("colour = 'red'\n[[nodes]]\nname = 'a'\n", ["unknown field 'colour'"]),
    ("[[nodes]]\nname = 'a'\n[[nodes]]\nname = 'a'\n", ["'a' is listed twice"]),
    ("[[nodes]]\nname = 'a'\nweight = -1\n", ["node 'a'", "weight"]),
    ("[[nodes]]\nname = 'a'\nweight = 'heavy'\n", ["'weight' must be a number"]),
    ("[[nodes]]\nweight = 1\n", ["'name'"]),
    ("nodes = []\n", ["at least one node"]),
    ("vnodes = 'many'\n[[nodes]]\nname = 'a'\n", ["'vnodes' must be an integer"]),
    ("dialect = 'nope'\n[[nodes]]\nname = 'a'\n", ["unknown dialect 'nope'"]),
    ("dialect = 'libmemcached'\n[[nodes]]\nname = 'a'\nweight = 1.5\n", ["a"]),
    ("[[nodes]\nname = 'a'\n", ["not valid TOML"]),
])
def test_malformed_ring_files_fail_naming_the_file(tmp_path, content, words):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    done = run("lookup", "k", "--ring", str(path), check=1)
    one_error_line(done, "bad.toml", *words)


def test_ring_file_errors_and_usage_errors(tmp_path):
    (tmp_path / "ring.yaml").write_text("nodes: [a]\n")
    one_error_line(run("lookup", "k", "--ring", str(tmp_path / "ring.yaml"), check=2), ".toml")
    one_error_line(run("lookup", "k", "--ring", str(tmp_path / "none.toml"), check=1),
                   "cannot read ring file", "none.toml")
    (tmp_path / "bad.json").write_text("[1, 2]")
    one_error_line(run("lookup", "k", "--ring", str(tmp_path / "bad.json"), check=1), "bad.json")
    one_error_line(run("lookup", "k", check=2), "--ring FILE or --nodes")
    one_error_line(run("lookup", "k", "--nodes", "a,,b", check=2), "empty node name")
    one_error_line(run("lookup", "k", "--nodes", "a,b", "--replicas", "3", check=1), "2 nodes")
    one_error_line(run("lookup", "k", "--nodes", "a", "--frobnicate", check=2), "--frobnicate")
    one_error_line(run("route", check=2), "input")
    one_error_line(run("nosuchcommand", check=2), "nosuchcommand")


def test_version_help_and_no_command():
    from ringcore import __version__

    assert run("--version").stdout.decode().strip() == f"ringcore {__version__}"
    for command in ("lookup", "route", "stats", "plan"):
        assert "--ring" in run(command, "--help").stdout.decode() or command == "plan"
    assert run(check=2).stderr.decode().startswith("usage")


# -- route ------------------------------------------------------------------------------


def test_route_text_file_and_standard_input(files):
    expected = [f"{k}\t{o}" for k, o in zip(KEYS[:-1], owners_of(KEYS[:-1]))]
    out = run("route", str(files / "keys.txt"), "--ring", str(files / "ring.toml"), "-q")
    assert out.stdout.decode().splitlines() == expected
    piped = run("route", "-", "--ring", str(files / "ring.toml"), "--chunk-rows", "333",
                input=(files / "keys.txt").read_bytes())
    assert piped.stdout.decode().splitlines() == expected
    assert "5,002 rows" in piped.stderr.decode() and "rows/s" in piped.stderr.decode()
    crlf = run("route", str(files / "keys-crlf.txt"), "--ring", str(files / "ring.toml"), "-q")
    assert crlf.stdout.decode().splitlines() == expected  # \r\n line ends; no newline at the end


def test_route_gzip_text_to_a_file(files):
    import gzip

    (files / "keys.txt.gz").write_bytes(gzip.compress((files / "keys.txt").read_bytes()))
    run("route", str(files / "keys.txt.gz"), "--ring", str(files / "ring.toml"),
        "-o", str(files / "out.txt"), "--chunk-rows", "1000")
    lines = (files / "out.txt").read_text().splitlines()
    assert lines == [f"{k}\t{o}" for k, o in zip(KEYS[:-1], owners_of(KEYS[:-1]))]
    no_temporaries(files)


def test_route_csv_keeps_its_rows_and_adds_node(files):
    run("route", str(files / "keys.csv"), "--column", "id", "--ring", str(files / "ring.toml"),
        "-o", str(files / "out.csv"), "--chunk-rows", "700")
    source = pacsv.read_csv(files / "keys.csv", convert_options=pacsv.ConvertOptions(
        column_types={"id": pa.string(), "amount": pa.string(), "count": pa.string()},
        strings_can_be_null=False))
    out = pacsv.read_csv(files / "out.csv", convert_options=pacsv.ConvertOptions(
        column_types={"id": pa.string(), "amount": pa.string(), "count": pa.string(),
                      "node": pa.string()}, strings_can_be_null=False))
    assert out.column_names == ["id", "amount", "count", "node"]
    for name in ("id", "amount", "count"):  # the same text, not re-typed
        assert out.column(name).to_pylist() == source.column(name).to_pylist()
    assert out.column("node").to_pylist() == owners_of(source.column("id").to_pylist())
    assert (files / "out.csv").read_text().startswith("id,amount,count,node\n")


def test_route_parquet_to_parquet_and_csv_with_replicas(files):
    run("route", str(files / "keys.parquet"), "--column", "id", "--ring", str(files / "ring.toml"),
        "-o", str(files / "out.parquet"), "--replicas", "3", "--chunk-rows", "1000")
    out = pq.read_table(files / "out.parquet")
    assert out.column_names == ["id", "amount", "count", "node", "node_2", "node_3"]
    assert out.schema.field("count").type == pa.int64()
    matrix = RING.route_replicas(KEYS, 3)
    for c, name in enumerate(("node", "node_2", "node_3")):
        assert out.column(name).to_pylist() == [RING.nodes[i] for i in matrix[:, c]]
    run("route", str(files / "keys.parquet"), "--column", "count", "--ring",
        str(files / "ring.toml"), "-o", str(files / "ints.csv"), "--node-column", "shard")
    ints = pacsv.read_csv(files / "ints.csv")
    assert ints.column("shard").to_pylist() == owners_of(list(range(len(KEYS))))  # int keys


def test_route_multi_chunk_input_larger_than_the_chunk(files):
    keys = np.random.default_rng(1).integers(0, 2**62, 30_000).tolist()
    pq.write_table(pa.table({"k": pa.array(keys, pa.int64())}), files / "big.parquet",
                   row_group_size=4000)
    run("route", str(files / "big.parquet"), "--nodes", "a,b,c,d,e", "-o", str(files / "big.txt"),
        "--chunk-rows", "1234")
    ring = HashRing(["a", "b", "c", "d", "e"])
    lines = (files / "big.txt").read_text().splitlines()
    assert lines == [f"{k}\t{ring.nodes[i]}" for k, i in zip(keys, ring.route(keys))]


@pytest.mark.parametrize("source, fmt", [("keys.txt", "txt"), ("keys.csv", "csv"),
                                         ("keys.parquet", "parquet")])
def test_split_dir_puts_every_row_in_its_node_file(files, source, fmt):
    column = [] if fmt == "txt" else ["--column", "id"]
    run("route", str(files / source), *column, "--ring", str(files / "ring.toml"),
        "--split-dir", str(files / "split"), "--chunk-rows", "900")
    names = {"cache-a": "cache-a", "cache-b": "cache-b", "cache-c:11211": "cache-c%3A11211",
             "cache/d": "cache%2Fd"}
    assert sorted(os.listdir(files / "split")) == sorted(f"{n}.{fmt}" for n in names.values())
    seen = 0
    keys = KEYS[:-1] if fmt == "txt" else KEYS
    for node, file_name in names.items():
        path = files / "split" / f"{file_name}.{fmt}"
        if fmt == "txt":
            got = path.read_text().splitlines()
        elif fmt == "csv":
            got = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={"id": pa.string()}, strings_can_be_null=False)).column("id").to_pylist()
        else:
            table = pq.read_table(path)
            assert table.column_names == ["id", "amount", "count"]
            got = table.column("id").to_pylist()
        assert got == [k for k, o in zip(keys, owners_of(keys)) if o == node]  # input order
        seen += len(got)
    assert seen == len(keys)
    no_temporaries(files)


def test_split_dir_with_replicas_and_empty_nodes(files):
    (files / "three.txt").write_text("a\nb\nc\n")
    nodes = [f"n{i}" for i in range(12)]
    run("route", str(files / "three.txt"), "--nodes", ",".join(nodes), "--replicas", "2",
        "--split-dir", str(files / "out"))
    ring = HashRing(nodes)
    counts = 0
    for node in nodes:
        lines = (files / "out" / f"{node}.txt").read_text().splitlines()  # every node has a file
        assert lines == [k for k in "abc" if node in ring.get_nodes(k, 2)]
        counts += len(lines)
    assert counts == 6
    run("route", str(files / "three.txt"), "--nodes", ",".join(nodes), "--output-format",
        "parquet", "--split-dir", str(files / "pq"))
    empty = [n for n in nodes if n not in {ring.get_node(k) for k in "abc"}]
    table = pq.read_table(files / "pq" / f"{empty[0]}.parquet")
    assert table.num_rows == 0 and table.column_names == ["key"]


def test_bounded_loads(files):
    run("route", str(files / "keys.txt"), "--ring", str(files / "ring.toml"), "--bounded", "0.05",
        "-o", str(files / "b.txt"), "--chunk-rows", "800")
    lines = [line.split("\t") for line in (files / "b.txt").read_text().splitlines()]
    expected = RING.assign_bounded(KEYS[:-1], 0.05)
    assert [o for _, o in lines] == [RING.nodes[i] for i in expected]
    one_error_line(run("route", "-", "--nodes", "a", "--bounded", "0.1", input=b"x\n", check=2),
                   "twice")


def test_null_keys(files):
    pq.write_table(pa.table({"id": ["a", None, "c", None]}), files / "nulls.parquet")
    done = run("route", str(files / "nulls.parquet"), "--nodes", "a,b", "-o",
               str(files / "n.csv"), check=1)
    one_error_line(done, "nulls.parquet", "row 2", "null key", "'id'")
    assert not (files / "n.csv").exists()
    no_temporaries(files)
    skip = run("route", str(files / "nulls.parquet"), "--nodes", "a,b", "--nulls", "skip", "-q")
    ring = HashRing(["a", "b"])
    assert skip.stdout.decode().splitlines() == ["id,node", f"a,{ring.get_node('a')}",
                                                  f"c,{ring.get_node('c')}"]
    keep = run("route", str(files / "nulls.parquet"), "--nodes", "a,b", "--nulls", "keep", "-q")
    assert keep.stdout.decode().splitlines()[1:3] == [f"a,{ring.get_node('a')}", ","]
    (files / "nulls.csv").write_text("id,v\nx,1\n,2\n")
    one_error_line(run("route", str(files / "nulls.csv"), "--nodes", "a", "--column", "id",
                       check=1), "row 2")


def test_route_error_paths(files):
    ring = ["--ring", str(files / "ring.toml")]
    one_error_line(run("route", str(files / "missing.txt"), *ring, check=1), "missing.txt")
    one_error_line(run("route", str(files), *ring, check=1), "folder")
    one_error_line(run("route", str(files / "keys.csv"), *ring, "--column", "nope", check=1),
                   "no column 'nope'", "id, amount, count")
    one_error_line(run("route", str(files / "keys.csv"), *ring, check=2), "--column")
    one_error_line(run("route", str(files / "keys.txt"), *ring, "--column", "x", check=2), "text")
    (files / "junk.parquet").write_bytes(b"not parquet at all")
    one_error_line(run("route", str(files / "junk.parquet"), *ring, check=1), "junk.parquet")
    one_error_line(run("route", str(files / "keys.txt"), *ring, "-o", str(files / "o.xyz"),
                       check=2), "--output-format")
    one_error_line(run("route", str(files / "keys.txt"), *ring, "-o",
                       str(files / "no" / "o.txt"), check=1), "no folder")
    one_error_line(run("route", str(files / "keys.parquet"), *ring, "--column", "id",
                       "--node-column", "amount", check=2), "'amount'")
    one_error_line(run("route", str(files / "keys.txt"), *ring, "--replicas", "0", check=2))
    one_error_line(run("route", str(files / "keys.txt"), "--nodes", "a", "--replicas", "2",
                       check=1), "--replicas 2", "1 node")
    pq.write_table(pa.table({"f": [1.5, 2.5]}), files / "floats.parquet")
    one_error_line(run("route", str(files / "floats.parquet"), *ring, check=1), "floats.parquet")


def test_existing_output_needs_force(files):
    ring = ["--ring", str(files / "ring.toml")]
    (files / "out.txt").write_text("precious\n")
    one_error_line(run("route", str(files / "keys.txt"), *ring, "-o", str(files / "out.txt"),
                       check=1), "exists", "--force")
    assert (files / "out.txt").read_text() == "precious\n"
    (files / "split").mkdir()
    (files / "split" / "old").write_text("x")
    one_error_line(run("route", str(files / "keys.txt"), *ring, "--split-dir",
                       str(files / "split"), check=1), "exists")
    run("route", str(files / "keys.txt"), *ring, "-o", str(files / "out.txt"), "--force")
    assert (files / "out.txt").read_text().startswith("user:0\t")
    run("route", str(files / "keys.txt"), *ring, "--split-dir", str(files / "split"), "--force")
    assert not (files / "split" / "old").exists()
    no_temporaries(files)


def test_a_failure_midway_leaves_no_partial_output(files):
    keys = [f"k{i}" for i in range(5000)]
    keys[4321] = None
    pq.write_table(pa.table({"id": keys}), files / "late-null.parquet", row_group_size=500)
    for out in (["-o", str(files / "o.parquet")], ["--split-dir", str(files / "dir")]):
        one_error_line(run("route", str(files / "late-null.parquet"), "--nodes", "a,b",
                           "--chunk-rows", "500", *out, check=1), "row 4322")
        assert not Path(out[1]).exists()
        no_temporaries(files)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_ctrl_c_leaves_no_output_and_exits_130(files):
    fifo = files / "keys.fifo"
    os.mkfifo(fifo)
    child = subprocess.Popen([SCRIPT, "route", str(fifo), "--nodes", "a,b", "--chunk-rows", "10",
                              "-o", str(files / "out.txt")], stderr=subprocess.PIPE)
    with open(fifo, "wb") as writer:
        writer.write(b"".join(b"key%d\n" % i for i in range(100)))
        writer.flush()
        deadline = time.monotonic() + 30
        while not any(".ringcore-" in p.name for p in files.iterdir()):
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        time.sleep(0.3)  # the first chunks are written, the reader waits on the pipe
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 130
    err = child.stderr.read().decode()
    assert "interrupted" in err and "Traceback" not in err
    assert not (files / "out.txt").exists()
    no_temporaries(files)


def test_broken_pipe_is_quiet(files):
    big = "\n".join(f"k{i}" for i in range(300_000)).encode()
    shell = subprocess.run(f"'{SCRIPT}' route - --nodes a,b -q | head -n 1", shell=True,
                           input=big, capture_output=True, timeout=120)
    assert shell.stdout.decode().count("\n") == 1
    assert b"Traceback" not in shell.stderr and b"BrokenPipe" not in shell.stderr


def test_debug_shows_the_traceback(files):
    done = run("route", str(files / "missing.txt"), "--nodes", "a", "--debug", check=None)
    assert done.returncode != 0 and "Traceback" in done.stderr.decode()


# -- stats and plan --------------------------------------------------------------------


def test_stats_table_json_and_key_counts(files):
    done = run("stats", "--ring", str(files / "ring.toml"), "--keys", str(files / "keys.parquet"),
               "--column", "id", "--json", "--chunk-rows", "600")
    report = json.loads(done.stdout)
    load = RING.load(KEYS)
    owned = RING.ownership()
    assert [n["name"] for n in report["nodes"]] == list(RING.nodes)
    for entry in report["nodes"]:
        assert entry["ownership"] == pytest.approx(owned[entry["name"]])
        assert entry["keys"] == load.as_dict()[entry["name"]]
        assert entry["zone"] == RING.zones[entry["name"]]
    assert report["spread"]["keys"] == len(KEYS)
    assert report["ring"] == {"nodes": 4, "points": len(RING.positions), "vnodes": 64,
                              "dialect": "ringcore"}
    table = run("stats", "--ring", str(files / "ring.toml")).stdout.decode()
    assert "cache/d" in table and "eu-1b" in table and "owns/share" in table


def test_plan_against_the_library(files):
    (files / "new.toml").write_text(RING_TOML.replace('name = "cache-a"', 'name = "cache-e"'))
    new = HashRing({**{n: {"weight": RING.weights[n], "zone": RING.zones[n]} for n in RING.nodes
                       if n != "cache-a"}, "cache-e": {"weight": 1, "zone": "eu-1a"}}, vnodes=64)
    plan = RING.diff(new)
    done = run("plan", str(files / "ring.toml"), str(files / "new.toml"), "--keys",
               str(files / "keys.txt"), "--json", "--top", "3")
    report = json.loads(done.stdout)
    assert report["moved_fraction"] == plan.moved_fraction
    assert report["ranges"] == len(plan) and len(report["largest_ranges"]) == 3
    moving = plan.transfers(KEYS[:-1])
    assert report["keys"]["moving"] == sum(moving.values())
    assert {(t["from"], t["to"]): t["keys"] for t in report["keys"]["transfers"]} == moving
    # the same plan by --add/--remove, its table text
    added = run("plan", str(files / "ring.toml"), "--remove", "cache-a", "--add", "cache-e",
                "--json")
    assert json.loads(added.stdout)["transfers"] == report["transfers"]
    text = run("plan", str(files / "ring.toml"), "--add", "cache-z=2").stdout.decode()
    assert "moved:" in text and "cache-z" in text and "transfer matrix" in text


def test_plan_error_paths(files):
    ring = str(files / "ring.toml")
    one_error_line(run("plan", ring, "--remove", "cache-q", check=1), "no node 'cache-q'")
    one_error_line(run("plan", ring, "--add", "cache-a", check=1), "already has")
    one_error_line(run("plan", ring, check=2), "--add")
    one_error_line(run("plan", ring, ring, "--add", "x", check=2), "not both")
    (files / "ketama.toml").write_text("dialect = 'ketama'\n[[nodes]]\nname = 'a'\n")
    one_error_line(run("plan", ring, str(files / "ketama.toml"), check=1), "dialect")


def test_plots(files):
    pytest.importorskip("matplotlib")
    run("stats", "--ring", str(files / "ring.toml"), "--keys", str(files / "keys.txt"),
        "--plot", str(files / "stats.png"), "-q")
    assert (files / "stats.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run("plan", str(files / "ring.toml"), "--add", "cache-z", "--plot", str(files / "plan.svg"))
    assert b"<svg" in (files / "plan.svg").read_bytes()[:500]
    one_error_line(run("stats", "--ring", str(files / "ring.toml"), "--plot",
                       str(files / "stats.png"), check=1), "exists")
    one_error_line(run("stats", "--ring", str(files / "ring.toml"), "--plot",
                       str(files / "stats.gif"), check=2), ".png")
    no_temporaries(files)


def test_plot_without_matplotlib_names_the_extra(files):
    code = ("import sys; sys.modules['matplotlib'] = None; from ringcore.cli import main; "
            f"sys.exit(main(['stats', '--nodes', 'a,b', '--plot', {str(files / 'p.png')!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, cwd=files)
    assert done.returncode == 1
    one_error_line(done, "matplotlib", "ringcore[cli]")
    assert not (files / "p.png").exists()


def test_json_has_no_nan(files):
    done = run("stats", "--nodes", "a,b", "--keys", str(files / "keys.txt"), "--json")
    json.loads(done.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    (files / "empty.txt").write_bytes(b"")
    report = json.loads(run("stats", "--nodes", "a,b", "--keys", str(files / "empty.txt"),
                            "--json").stdout)
    assert report["spread"]["keys"] == 0 and report["nodes"][0]["keys_over_share"] is None
    assert not math.isnan(report["spread"]["ownership_max_over_share"])


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="pseudo-terminals")
def test_progress_bar_on_a_terminal(files):
    """With standard error on a terminal a progress bar is drawn there, and
    the output is the same as without it."""
    import pty  # noqa: F401 - present wherever os.openpty is

    master, slave = os.openpty()
    try:
        child = subprocess.Popen([SCRIPT, "route", str(files / "keys.txt"), "--ring",
                                  str(files / "ring.toml"), "-o", str(files / "tty.txt"),
                                  "--chunk-rows", "500"], stderr=slave, stdout=subprocess.DEVNULL)
        os.close(slave)
        seen = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            seen += data
        assert child.wait(timeout=120) == 0
    finally:
        os.close(master)
    assert b"rows/s" in seen and b"Traceback" not in seen
    assert b"\x1b[" in seen  # the bar's terminal control sequences
    lines = (files / "tty.txt").read_text().splitlines()
    assert lines == [f"{k}\t{o}" for k, o in zip(KEYS[:-1], owners_of(KEYS[:-1]))]


def test_csv_with_a_byte_order_mark_and_tsv(files):
    (files / "bom.csv").write_bytes("\ufeffid,v\nx,1\ny,2\n".encode("utf-8"))
    ring = HashRing(["a", "b", "c"])
    out = run("route", str(files / "bom.csv"), "--nodes", "a,b,c", "--column", "id", "-q")
    assert out.stdout.decode().splitlines() == ["id,v,node", f"x,1,{ring.get_node('x')}",
                                                f"y,2,{ring.get_node('y')}"]
    (files / "keys.tsv").write_text("id\tv\nx,y\t1\n")
    out = run("route", str(files / "keys.tsv"), "--nodes", "a,b,c", "--column", "id", "-q")
    assert out.stdout.decode().splitlines() == ["id\tv\tnode", f"x,y\t1\t{ring.get_node('x,y')}"]


# -- review: regressions -----------------------------------------------------------------


def test_bytes_that_are_not_utf8_never_vanish_from_csv_output(files):
    # a binary Parquet column with one bad value went to CSV as a header and no rows, exit 0
    values = [f"k{i}".encode() for i in range(10)] + [b"\xff\xfe"]
    pq.write_table(pa.table({"key": pa.array(values, pa.binary())}), files / "bin.parquet")
    for out in (["-o", str(files / "o.csv")], ["--split-dir", str(files / "d"),
                                                 "--output-format", "csv"], []):
        one_error_line(run("route", str(files / "bin.parquet"), "--nodes", "a,b", *out,
                           check=1), "bin.parquet", "row 11", "'key'", "UTF-8")
    assert not (files / "o.csv").exists() and not (files / "d").exists()
    no_temporaries(files)
    run("route", str(files / "bin.parquet"), "--nodes", "a,b", "-o", str(files / "o.parquet"))
    assert pq.read_table(files / "o.parquet").column("key").to_pylist() == values
    (files / "bin.txt").write_bytes(b"fine\n\xff\xfebad\n")
    for out in ("o.csv", "o.parquet"):
        one_error_line(run("route", str(files / "bin.txt"), "--nodes", "a,b", "--force", "-o",
                           str(files / out), check=1), "bin.txt", "row 2", "UTF-8")
    pq.write_table(pa.table({"key": pa.array([None, b"ok", None, b"\xff"], pa.binary())}),
                   files / "nulls-then-bad.parquet")
    one_error_line(run("route", str(files / "nulls-then-bad.parquet"), "--nodes", "a,b",
                       "--nulls", "skip", check=1), "row 4")


def test_a_chunk_of_nulls_only_with_nulls_skip(files):
    keys = ["a", "b"] + [None] * 4 + ["c"]
    pq.write_table(pa.table({"id": keys}), files / "holes.parquet", row_group_size=2)
    ring = HashRing(["x", "y", "z"])
    rest = [k for k in keys if k is not None]
    for extra in ([], ["--bounded", "0.5"], ["--replicas", "2"]):
        done = run("route", str(files / "holes.parquet"), "--nodes", "x,y,z", "--nulls", "skip",
                   "--chunk-rows", "2", "-q", *extra)
        lines = done.stdout.decode().splitlines()
        if extra == ["--replicas", "2"]:
            expected = [[ring.nodes[i] for i in row] for row in ring.route_replicas(rest, 2)]
            assert lines[1:] == [",".join([k, *o]) for k, o in zip(rest, expected)]
        else:
            owners = ring.assign_bounded(rest, 0.5) if extra else ring.route(rest)
            assert lines[1:] == [f"{k},{ring.nodes[i]}" for k, i in zip(rest, owners)]
    run("route", str(files / "holes.parquet"), "--nodes", "x,y,z", "--nulls", "skip",
        "--chunk-rows", "2", "-q", "--split-dir", str(files / "d"))
    assert sum(pq.read_table(p).num_rows for p in (files / "d").iterdir()) == len(rest)


@pytest.mark.parametrize("content, words", [
    (b"key,v\n\"unterminated,1\nplain,2\n", ["Expected 2 columns"]),
    (b"key,v\nshort\nplain,2\n", ["Expected 2 columns", "short"]),
    (b"key,v\nok,1\n\xff\xfe,2\n", ["UTF8"]),
])
def test_csv_errors_in_the_first_block_name_the_file(files, content, words):
    (files / "bad.csv").write_bytes(content)
    for command in (["route", str(files / "bad.csv"), "--nodes", "a", "-o", str(files / "o.txt")],
                    ["stats", "--nodes", "a", "--keys", str(files / "bad.csv")]):
        err = one_error_line(run(*command, "--column", "key", check=1), "bad.csv", *words)
        assert "ArrowInvalid" not in err
    no_temporaries(files)


# the console script under an atexit hook that says whether the interpreter
# shut down: it does not after a CSV reader was left before its end
SHUTDOWN_PROBE = """
import atexit, sys
atexit.register(lambda: print("shut down", file=sys.stderr, flush=True))
from ringcore.cli import console
sys.argv[0] = "ringcore"
console()
"""


@pytest.mark.parametrize("content, status", [
    (b"key,v\nok,1\n\xff\xfe,2\n", 1),  # an error in the first block: the reader is left
    (b"key,v\n" + b"".join(b"k%d,%d\n" % (i, i) for i in range(100_000)), 0),  # read to its end
])
def test_an_unfinished_csv_reader_ends_the_process_without_the_shutdown(files, content, status):
    # Arrow may still be reading ahead through a Python file object, and a
    # thread waiting for the GIL at shutdown aborts the process (seen once)
    (files / "in.csv").write_bytes(content)
    done = subprocess.run([sys.executable, "-c", SHUTDOWN_PROBE, "stats", "--nodes", "a,b",
                           "--keys", str(files / "in.csv"), "--column", "key", "-q"],
                          cwd=files, capture_output=True, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == status, err
    assert ("shut down" in err) == (status == 0), err
    if status:
        assert err.startswith("ringcore stats: error: ") and "UTF8" in err, err
    else:
        assert "2 nodes" in done.stdout.decode()


def test_duplicate_column_names_are_refused(files):
    (files / "dup.csv").write_text("key,key\nx,y\n")
    one_error_line(run("route", str(files / "dup.csv"), "--nodes", "a", "--column", "key",
                       check=1), "dup.csv", "2 columns are named 'key'")


def test_split_dir_that_holds_the_input_is_never_replaced(files):
    folder = files / "split"
    folder.mkdir()
    shutil.copy(files / "keys.txt", folder / "in.txt")
    for target in (str(folder), "."):
        one_error_line(run("route", str(folder / "in.txt"), "--nodes", "a,b", "--force",
                           "--split-dir", target, cwd=folder, check=1), "holds the input")
    assert (folder / "in.txt").read_bytes() == (files / "keys.txt").read_bytes()
    no_temporaries(files)
    no_temporaries(folder)


def test_split_dir_with_more_nodes_than_the_open_file_limit(files):
    resource = pytest.importorskip("resource")
    nodes = ",".join(f"n{i}" for i in range(300))
    args = [SCRIPT, "route", str(files / "keys.txt"), "--nodes", nodes, "-q"]

    def low(soft: int, hard: int) -> Callable[[], None]:
        return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard >= 400:
        for fmt in ("text", "csv"):
            out = files / f"split-{fmt}"
            done = subprocess.run([*args, "--split-dir", str(out), "--output-format", fmt],
                                  capture_output=True, timeout=120, preexec_fn=low(128, hard))
            assert done.returncode == 0, done.stderr.decode()
            assert len(list(out.iterdir())) == 300
    done = subprocess.run([*args, "--split-dir", str(files / "none")], capture_output=True,
                          timeout=120, preexec_fn=low(128, 128))
    assert done.returncode == 1
    one_error_line(done, "cannot write", "none", "300 nodes")
    no_temporaries(files)


def test_parquet_split_dir_buffers_are_bounded_across_nodes(files, monkeypatch):
    from ringcore.cli import main, outputs

    monkeypatch.setattr(outputs, "SPLIT_PENDING_ROWS", 500)
    keys = [f"k{i}" for i in range(4000)]
    pq.write_table(pa.table({"id": keys}), files / "k.parquet")
    names = [f"n{i}" for i in range(20)]
    assert main(["route", str(files / "k.parquet"), "--nodes", ",".join(names), "-q",
                 "--chunk-rows", "1000", "--split-dir", str(files / "d")]) == 0
    ring = HashRing(names)
    owners = ring.route(keys)
    for i, name in enumerate(names):
        f = pq.ParquetFile(files / "d" / f"{name}.parquet")
        assert f.metadata.num_row_groups > 1  # written as the budget filled, not at the end
        assert f.read().column("id").to_pylist() == [k for k, o in zip(keys, owners) if o == i]


def test_text_lines_across_read_blocks(files):
    long_key = b"x" * (3 << 20)  # spans several 1 MiB reads
    edge = b"y" * ((1 << 20) - 1)  # its \r\n straddles the first block's end
    data = edge + b"\r\n" + long_key + b"\nshort\n\nlast"
    (files / "long.txt").write_bytes(data)
    keys = [edge, long_key, b"short", b"", b"last"]
    ring = HashRing(["a", "b", "c"])
    expected = b"".join(k + b"\t" + ring.nodes[i].encode() + b"\n"
                        for k, i in zip(keys, ring.route(keys)))
    for rows in ("1", "2", "1048576"):
        assert run("route", str(files / "long.txt"), "--nodes", "a,b,c", "-q",
                   "--chunk-rows", rows).stdout == expected


def test_closed_or_full_standard_streams(files):
    ring = ["--nodes", "a,b"]
    closed = subprocess.run([SCRIPT, "route", "-", *ring], capture_output=True, timeout=60,
                            preexec_fn=lambda: os.close(0))
    assert closed.returncode == 1
    one_error_line(closed, "standard input", "closed")
    for command in (["route", str(files / "keys.txt"), "-q"], ["lookup", "k"], ["stats"],
                    ["stats", "--json"]):
        closed = subprocess.run([SCRIPT, *command, *ring], capture_output=True, timeout=60,
                                preexec_fn=lambda: os.close(1))
        assert closed.returncode == 1, command
        one_error_line(closed, "standard output", "closed")
        if os.path.exists("/dev/full"):
            with open("/dev/full", "wb") as full:
                done = subprocess.run([SCRIPT, *command, *ring], stdout=full,
                                      stderr=subprocess.PIPE, timeout=60)
            assert done.returncode == 1, command
            one_error_line(done, "standard output", "No space left")


def test_lookup_of_keys_that_are_not_utf8(files):
    done = subprocess.run([SCRIPT.encode(), b"lookup", b"--nodes", b"a,b,c", b"\xff\xfe", b"ok"],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    ring = HashRing(["a", "b", "c"])
    owners = [ring.nodes[i].encode() for i in ring.route([b"\xff\xfe", b"ok"])]
    assert done.stdout == b"\xff\xfe\t" + owners[0] + b"\nok\t" + owners[1] + b"\n"
    (files / "k.txt").write_bytes(b"\xff\xfe\n")
    assert run("route", str(files / "k.txt"), "--nodes", "a,b,c", "-q").stdout.split(b"\t")[1] \
        == owners[0] + b"\n"


def test_argument_checks_come_first_with_their_status(files):
    keys = str(files / "keys.txt")
    out = str(files / "o.csv")
    one_error_line(run("route", keys, "--nodes", "a,b", "--replicas", "3", "-o", out, check=1),
                   "--replicas 3", "2 nodes")
    for bad in (["--threads", "0"], ["--bounded", "inf"], ["--node-column", ""],
                ["--node-column", "key"]):
        err = one_error_line(run("route", keys, "--nodes", "a,b", "-o", out, *bad, check=2))
        assert "None" not in err
    assert not os.path.exists(out)
    for command in (["stats", "--nodes", "a"], ["plan", str(files / "ring.toml"), "--add", "z"]):
        one_error_line(run(*command, "--keys", keys, "--chunk-rows", "0", check=2),
                       "--chunk-rows")
    one_error_line(run("plan", str(files / "ring.toml"), "--add", "z", "--top", "-1", check=2),
                   "--top")
    no_temporaries(files)


def test_gz_output_names_are_refused_not_written_plain(files):
    for name in ("o.csv.gz", "o.txt.gz"):
        one_error_line(run("route", str(files / "keys.txt"), "--nodes", "a", "-o",
                           str(files / name), check=2), name, "gzip")
        assert not (files / name).exists()
