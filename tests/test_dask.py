"""ringcore.dask on a real distributed.LocalCluster with worker processes:
every result equals single-process routing, and the ring reaches each
worker once."""

from __future__ import annotations

import logging
import os
import pickle

import numpy as np
import pytest

from ringcore import HashRing, NullKeyError, RingLayout

dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
rdask = pytest.importorskip("ringcore.dask")

RING = HashRing({"cache-a": {"weight": 1, "zone": "z1"}, "cache-b": {"weight": 2, "zone": "z2"},
                 "host:11211": {"weight": 1, "zone": "z1"}, "odd/name é": 1}, vnodes=64)
N = 3000


@pytest.fixture(scope="module")
def client():
    for name in ("distributed", "distributed.shuffle"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def frame(npartitions: int = 7) -> tuple:
    rng = np.random.default_rng(3)
    pdf = pd.DataFrame({
        "text": [f"user:{v}" for v in rng.integers(0, 10**9, N)],
        "ints": rng.integers(-(2**62), 2**62, N),
        "uints": rng.integers(0, 2**63, N).astype(np.uint64) * np.uint64(2),
        "raw": [f"b{v}".encode() for v in range(N)],
        "amount": rng.random(N),
    }, index=pd.RangeIndex(100, 100 + N))
    return pdf, dd.from_pandas(pdf, npartitions=npartitions, sort=False)


def with_empty_partitions(ddf):
    """The same rows with empty partitions between them."""
    parts = [ddf.get_partition(i) for i in range(ddf.npartitions)]
    empty = parts[0][parts[0]["amount"] > 2]  # never true: an empty partition
    return dd.concat([empty, *sum(([p, empty] for p in parts), [])])


@pytest.mark.parametrize("column", ["text", "ints", "uints", "raw"])
def test_route_a_column_equals_the_library(client, column):
    pdf, ddf = frame()
    ddf = with_empty_partitions(ddf)
    owners = rdask.route(ddf, column, RING)
    assert owners.npartitions == ddf.npartitions
    got = owners.compute()
    assert got.dtype == np.int32 and got.name == "node"
    expected = RING.route(pdf[column])
    assert got.index.equals(pdf.index)
    np.testing.assert_array_equal(got.to_numpy(), expected)


def test_arrow_backed_and_nullable_columns(client):
    keys = [f"k{i}" if i % 11 else None for i in range(N)]
    pdf = pd.DataFrame({"s": pd.array(keys, dtype="string[pyarrow]"),
                        "large": pd.array(keys, dtype=pd.ArrowDtype(pa.large_string())),
                        "n": pd.array([i if i % 13 else None for i in range(N)], dtype="Int64")})
    ddf = dd.from_pandas(pdf, npartitions=5)
    for column in pdf.columns:
        got = rdask.route(ddf, column, RING, null=-1).compute()
        np.testing.assert_array_equal(got.to_numpy(), RING.route(pdf[column], null=-1))
        assert (got == -1).sum() == pdf[column].isna().sum()
        with pytest.raises(NullKeyError):
            rdask.route(ddf, column, RING).compute()


def test_names_series_array_replicas_moved_and_load(client):
    pdf, ddf = frame(5)
    names = rdask.route(ddf, "text", RING, names=True).compute()
    assert list(names.cat.categories) == list(RING.nodes)
    assert names.tolist() == [RING.get_node(k) for k in pdf["text"]]
    series = rdask.route(ddf["ints"], None, RING).compute()
    np.testing.assert_array_equal(series.to_numpy(), RING.route(pdf["ints"]))

    keys = np.random.default_rng(5).integers(0, 2**64, (40, 75), dtype=np.uint64)
    array = da.from_array(keys, chunks=(13, 20))
    routed = rdask.route(array, None, RING)
    assert routed.chunks == array.chunks
    np.testing.assert_array_equal(routed.compute(), RING.route(keys))

    replicas = rdask.route_replicas(ddf, "text", RING, 3, distinct_zones=True).compute()
    assert list(replicas.columns) == ["node", "node_2", "node_3"]
    np.testing.assert_array_equal(replicas.to_numpy(),
                                  RING.route_replicas(pdf["text"], 3, distinct_zones=True))
    np.testing.assert_array_equal(rdask.route_replicas(array, None, RING, 2).compute(),
                                  RING.route_replicas(keys, 2))

    bigger = HashRing({**{n: RING.weights[n] for n in RING.nodes}, "cache-new": 1}, vnodes=64)
    plan = RING.diff(bigger)
    moved = rdask.moved(ddf, "text", plan).compute()
    np.testing.assert_array_equal(moved.to_numpy(), plan.moved(pdf["text"]))
    np.testing.assert_array_equal(rdask.moved(array, None, plan).compute(), plan.moved(keys))

    load = rdask.load(ddf, "text", RING)
    assert load.as_dict() == RING.load(pdf["text"]).as_dict()
    assert rdask.load(array, None, RING).as_dict() == RING.load(keys).as_dict()


def test_the_ring_reaches_each_worker_once_and_pickles_small(client):
    pdf, ddf = frame(24)
    ring = HashRing([f"node-{i:04d}" for i in range(1000)], vnodes=160)
    shipped = rdask.ShippedRing(ring.snapshot())
    size = len(pickle.dumps(shipped, protocol=5))
    assert size < 32_000, size  # the recipe, not the 160,000 points (1.9 MB)
    client.run(lambda: setattr(rdask, "restores", 0))
    for _ in range(3):
        got = rdask.route(ddf, "text", ring).compute()
        np.testing.assert_array_equal(got.to_numpy(), ring.route(pdf["text"]))
        rdask.route_replicas(ddf, "text", ring, 2).compute()
    counts = client.run(lambda: rdask.restores)
    assert all(count <= 1 for count in counts.values()), counts  # 24 partitions x 6 graphs
    assert sum(counts.values()) >= 1


def test_a_layout_of_its_own_points_travels_as_its_arrays(client):
    base = RING.snapshot()
    positions = np.array(base.positions, dtype=np.uint64) ^ np.uint64(1)
    order = np.argsort(positions)
    custom = RingLayout.from_arrays({n: base.weights[n] for n in base.nodes}, positions[order],
                                    np.array(base.owners)[order], vnodes=64)
    shipped = rdask.ShippedRing(custom)
    assert shipped._recipe[0] == "layout"
    restored = pickle.loads(pickle.dumps(shipped))
    assert restored.layout == custom
    pdf, ddf = frame(4)
    got = rdask.route(ddf, "text", custom).compute()
    np.testing.assert_array_equal(got.to_numpy(), custom.route(pdf["text"]))


@pytest.mark.parametrize("method", ["tasks", "p2p"])
def test_partition_by_ring_puts_every_row_on_its_node(client, method):
    pdf, ddf = frame(6)
    nodes = [f"n{i}" for i in range(9)]
    ring = HashRing(nodes + ["heavy"], vnodes=32)
    small = ddf.loc[ddf["amount"] < 0.002]  # a few rows: some nodes get none
    for data, source in ((ddf, pdf), (small, pdf[pdf["amount"] < 0.002])):
        out = rdask.partition_by_ring(data, "text", ring, shuffle_method=method)
        assert out.npartitions == len(ring.nodes)
        assert list(out.columns) == list(pdf.columns)
        parts = client.compute([out.get_partition(i) for i in range(out.npartitions)], sync=True)
        total = 0
        for i, part in enumerate(parts):
            assert (ring.route(part["text"]) == i).all()
            total += len(part)
        assert total == len(source)
        together = pd.concat(parts).sort_index()
        plain = ["text", "ints", "uints", "amount"]  # dask turns the bytes column into text
        pd.testing.assert_frame_equal(together[plain], source.sort_index()[plain],
                                      check_dtype=False)
    assert any(len(p) == 0 for p in parts)


def test_to_parquet_by_node_writes_one_dataset_per_node(client, tmp_path):
    import pyarrow.dataset as ds

    pdf, ddf = frame(5)
    folders = rdask.to_parquet_by_node(ddf, "text", RING, str(tmp_path / "out"))
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        os.path.basename(rdask.node_folder("", n)) for n in RING.nodes)
    assert folders == [rdask.node_folder(str(tmp_path / "out"), n) for n in RING.nodes]
    owners = np.asarray(RING.nodes, dtype=object)[RING.route(pdf["text"])]
    for name in RING.nodes:
        table = pq.read_table(rdask.node_folder(str(tmp_path / "out"), name))
        expected = pdf[owners == name]
        assert sorted(table.column("text").to_pylist()) == sorted(expected["text"])
    whole = ds.dataset(str(tmp_path / "out"), partitioning="hive").to_table().to_pandas()
    assert sorted(zip(whole["text"], whole["node"])) == sorted(zip(pdf["text"], owners))
    with pytest.raises(FileExistsError):
        rdask.to_parquet_by_node(ddf, "text", RING, str(tmp_path / "out"))
    smaller = ddf.loc[ddf["amount"] < 0.001]
    rdask.to_parquet_by_node(smaller, "text", RING, str(tmp_path / "out"), overwrite=True)
    again = ds.dataset(str(tmp_path / "out"), partitioning="hive").to_table()
    assert again.num_rows == int((pdf["amount"] < 0.001).sum())
    assert not [n for n in os.listdir(tmp_path / "out") if n.startswith(".")]


def test_bad_arguments(client, tmp_path):
    pdf, ddf = frame(2)
    with pytest.raises(KeyError, match="nope"):
        rdask.route(ddf, "nope", RING)
    with pytest.raises(TypeError):
        rdask.route(ddf, None, RING)
    with pytest.raises(TypeError):
        rdask.route(ddf["text"], "text", RING)
    with pytest.raises(TypeError):
        rdask.route(pdf, "text", RING)
    with pytest.raises(TypeError):
        rdask.route(ddf, "text", "not a ring")
    with pytest.raises(TypeError):
        rdask.route(da.zeros(4, dtype=np.uint64), None, RING, names=True)
    with pytest.raises(ValueError):
        rdask.route_replicas(ddf, "text", RING, 9)
    with pytest.raises(ValueError):
        rdask.partition_by_ring(ddf, "text", HashRing())
    with pytest.raises(ValueError, match="node"):
        rdask.to_parquet_by_node(ddf.assign(node=1), "text", RING, str(tmp_path / "x"))
    nulls = dd.from_pandas(pd.DataFrame({"k": ["a", None, "c"]}), npartitions=2)
    with pytest.raises(NullKeyError):
        rdask.to_parquet_by_node(nulls, "k", RING, str(tmp_path / "nulls"))
    assert not [n for n in os.listdir(tmp_path / "nulls") if n.startswith(".ringcore")]
    out = rdask.partition_by_ring(nulls, "k", RING, skip_nulls=True).compute()
    assert sorted(out["k"]) == ["a", "c"]
