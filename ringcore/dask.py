"""Route and partition Dask collections on a ring (the extra ``ringcore[dask]``).

Every function takes a dask DataFrame and a column name, a dask Series (column
None) or a dask Array of keys, and a HashRing or RingLayout. The ring's
snapshot at call time is one key of the graph: it travels to each worker once,
as the recipe it was built from (names, weights, zones, vnodes, dialect; about
12 bytes a node name plus its text) when a rebuild gives the very same
layout, else as its arrays, and each worker process builds or loads it once,
whatever the number of partitions. Partitions are routed by the compiled core,
Arrow-backed string columns without a copy.

What stays on one machine: ``assign_bounded`` (bounded loads take the keys in
one ordered pass: a node's capacity depends on every key before it), and
plans' range lists (``ring.diff`` is cheap and local; ``moved`` applies one to
a dask column).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pickle
import shutil
import string
import threading
import uuid
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import numpy as np

from .layout import RingLayout
from .ops import Load
from .plan import Plan
from .ring import HashRing

__all__ = ["ship", "route", "route_replicas", "moved", "load", "partition_by_ring",
           "to_parquet_by_node", "node_folder"]

NODE_COLUMN = "node"


def _dask(name: str = "dask") -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"ringcore.dask needs {name.split('.')[0]}: "
                          "pip install 'ringcore[dask]'") from None


# -- the ring, once per worker -----------------------------------------------------------

_built: OrderedDict[str, RingLayout] = OrderedDict()  # token -> layout, in this process
_built_lock = threading.Lock()
_BUILT_KEEP = 8
restores = 0  # how many times this process built or loaded a shipped ring (see the tests)


class ShippedRing:
    """A ring snapshot as it travels in a Dask graph: pickled as its recipe
    (or its arrays), restored once per process and token."""

    __slots__ = ("layout", "token", "_recipe")

    def __init__(self, layout: RingLayout) -> None:
        self.layout = layout
        recipe = _recipe(layout)
        if _rebuild(recipe) == layout:
            self._recipe: tuple = ("recipe", recipe)
        else:  # e.g. RingLayout.from_arrays with points of its own
            self._recipe = ("layout", layout)
        self.token = hashlib.sha256(pickle.dumps(self._recipe, protocol=4)).hexdigest()[:32]

    def __reduce__(self) -> tuple:
        return (_restore_shipped, (self.token, self._recipe))

    def __repr__(self) -> str:
        return f"ShippedRing({len(self.layout.nodes)} nodes, {self._recipe[0]}, {self.token[:8]})"


def _recipe(layout: RingLayout) -> tuple:
    return (layout.names, layout.node_weights, layout.node_zones, layout.vnodes,
            layout.dialect.get_config())


def _rebuild(recipe: tuple) -> RingLayout:
    names, weights, zones, vnodes, dialect = recipe
    spec = {n: {"weight": w, "zone": z} if z is not None else {"weight": w}
            for n, w, z in zip(names, weights, zones)}
    return RingLayout(spec, vnodes=vnodes, dialect=dialect)


def _restore_shipped(token: str, recipe: tuple) -> ShippedRing:
    global restores
    with _built_lock:
        layout = _built.get(token)
        if layout is not None:
            _built.move_to_end(token)
    if layout is None:
        kind, value = recipe
        if kind == "recipe":
            layout = _rebuild(value)
        elif kind == "layout" and isinstance(value, RingLayout):
            layout = value
        else:
            raise TypeError("a shipped ring holds a recipe or a RingLayout")
        with _built_lock:
            restores += 1
            _built[token] = layout
            while len(_built) > _BUILT_KEEP:
                _built.popitem(last=False)
    shipped = ShippedRing.__new__(ShippedRing)
    shipped.layout, shipped.token, shipped._recipe = layout, token, recipe
    return shipped


def _snapshot(ring: object) -> RingLayout:
    if isinstance(ring, HashRing):
        return ring.snapshot()
    if isinstance(ring, RingLayout):
        return ring
    raise TypeError(f"ring must be a HashRing or RingLayout, not {type(ring).__name__}")


def ship(ring: HashRing | RingLayout) -> Any:
    """The ring's snapshot as one key of a Dask graph (a ``Delayed``): pass it
    to your own ``map_partitions`` to route with the ring where the data is."""
    dask = _dask()
    if isinstance(ring, ShippedRing):
        shipped = ring
    else:
        shipped = ShippedRing(_snapshot(ring))
    return dask.delayed(shipped, pure=True, name=f"ringcore-ring-{shipped.token}")


# -- per partition -----------------------------------------------------------------------


def _route_series(keys: Any, shipped: ShippedRing, null: int | None, names: bool) -> Any:
    pd = importlib.import_module("pandas")
    layout = shipped.layout
    owners = layout.route(keys, null=null)
    if names:
        return pd.Series(layout.names_of(owners), index=keys.index, name=NODE_COLUMN)
    return pd.Series(owners, index=keys.index, name=NODE_COLUMN, dtype="int32")


def _route_block(keys: np.ndarray, shipped: ShippedRing, null: int | None) -> np.ndarray:
    return shipped.layout.route(keys, null=null)


def _replicas_frame(keys: Any, shipped: ShippedRing, n: int, null: int | None,
                    distinct_zones: bool) -> Any:
    pd = importlib.import_module("pandas")
    rows = shipped.layout.route_replicas(keys, n, null=null, distinct_zones=distinct_zones)
    return pd.DataFrame(rows, index=keys.index, columns=replica_columns(n))


def _replicas_block(keys: np.ndarray, shipped: ShippedRing, n: int, null: int | None,
                    distinct_zones: bool) -> np.ndarray:
    return shipped.layout.route_replicas(keys, n, null=null, distinct_zones=distinct_zones)


def replica_columns(n: int) -> list[str]:
    return [NODE_COLUMN] + [f"{NODE_COLUMN}_{i}" for i in range(2, n + 1)]


_plans: OrderedDict[tuple[str, str], Plan] = OrderedDict()


def _plan_of(old: ShippedRing, new: ShippedRing) -> Plan:
    """old.diff(new), once per process."""
    key = (old.token, new.token)
    with _built_lock:
        plan = _plans.get(key)
    if plan is None:
        plan = old.layout.diff(new.layout)
        with _built_lock:
            _plans[key] = plan
            while len(_plans) > _BUILT_KEEP:
                _plans.popitem(last=False)
    return plan


def _moved_series(keys: Any, old: ShippedRing, new: ShippedRing) -> Any:
    pd = importlib.import_module("pandas")
    return pd.Series(_plan_of(old, new).moved(keys), index=keys.index, name="moved", dtype=bool)


def _moved_block(keys: np.ndarray, old: ShippedRing, new: ShippedRing) -> np.ndarray:
    return _plan_of(old, new).moved(keys)


# -- collections -------------------------------------------------------------------------


def _keys_of(data: Any, column: str | None) -> tuple[str, Any]:
    """("frame", dask Series) or ("array", dask Array) of the keys."""
    dd = _dask("dask.dataframe")
    da = _dask("dask.array")
    if isinstance(data, dd.DataFrame):
        if column is None:
            raise TypeError("a dask DataFrame needs the key column's name")
        if column not in data.columns:
            raise KeyError(f"no column {column!r} in the dask DataFrame "
                           f"(columns: {', '.join(map(str, data.columns))})")
        return "frame", data[column]
    if column is not None:
        raise TypeError(f"column={column!r} goes with a dask DataFrame, "
                        f"not a {type(data).__name__}")
    if isinstance(data, dd.Series):
        return "frame", data
    if isinstance(data, da.Array):
        return "array", data
    raise TypeError("route takes a dask DataFrame (with a column), a dask Series or a dask "
                    f"Array, not {type(data).__name__}")


def _block_meta(ndim: int, dtype: Any) -> np.ndarray:
    return np.empty((0,) * ndim, dtype=dtype)


def route(data: Any, column: str | None, ring: HashRing | RingLayout, *,
          null: int | None = None, names: bool = False) -> Any:
    """Lazily, the owner of every key: a dask Series of int32 indices into
    ``ring.nodes`` (named "node", aligned with the data's index), or of
    names (a pandas categorical whose categories are the nodes) with
    names=True; for a dask Array, an int32 array of the same shape and chunks.
    null: the index written for null keys (else a null is a NullKeyError
    when computed)."""
    kind, keys = _keys_of(data, column)
    shipped = ship(ring)
    if kind == "array":
        if names:
            raise TypeError("names=True takes a dask DataFrame column or Series; map an "
                            "array's indices with numpy.asarray(ring.nodes)[owners]")
        index = string.ascii_lowercase[:keys.ndim]
        return _dask("dask.array").blockwise(
            _route_block, index, keys, index, shipped, None, null, None, dtype=np.int32,
            meta=_block_meta(keys.ndim, np.int32))
    pd = importlib.import_module("pandas")
    if names:
        nodes = list(_snapshot(ring).nodes)
        meta = pd.Series(pd.Categorical([], categories=nodes), name=NODE_COLUMN)
    else:
        meta = pd.Series([], dtype="int32", name=NODE_COLUMN)
    return keys.map_partitions(_route_series, shipped, null, names, meta=meta)


def route_replicas(data: Any, column: str | None, ring: HashRing | RingLayout, n: int, *,
                   null: int | None = None, distinct_zones: bool = False) -> Any:
    """Lazily, the first n distinct owners of every key: a dask DataFrame with
    int32 columns "node", "node_2" ... "node_n", or for a dask Array, an
    int32 array with a last axis of n."""
    layout = _snapshot(ring)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(layout.nodes):
        raise ValueError(f"n must be between 1 and the number of nodes ({len(layout.nodes)}), "
                         f"got {n!r}")
    kind, keys = _keys_of(data, column)
    shipped = ship(layout)
    if kind == "array":
        index = string.ascii_lowercase[:keys.ndim]
        return _dask("dask.array").blockwise(
            _replicas_block, index + "z", keys, index, shipped, None, n, None, null, None,
            distinct_zones, None, new_axes={"z": n}, dtype=np.int32,
            meta=_block_meta(keys.ndim + 1, np.int32))
    pd = importlib.import_module("pandas")
    meta = pd.DataFrame({c: pd.Series([], dtype="int32") for c in replica_columns(n)})
    return keys.map_partitions(_replicas_frame, shipped, n, null, distinct_zones, meta=meta)


def moved(data: Any, column: str | None, plan: Plan) -> Any:
    """Lazily, whether each key's node (by name) differs between the plan's
    old and new rings: a dask Series of bool named "moved", or a bool dask
    Array. Each worker works the plan out once from the two rings."""
    if not isinstance(plan, Plan):
        raise TypeError(f"plan must be a Plan (old.diff(new)), not {type(plan).__name__}")
    kind, keys = _keys_of(data, column)
    old, new = ship(plan.old), ship(plan.new)
    if kind == "array":
        index = string.ascii_lowercase[:keys.ndim]
        return _dask("dask.array").blockwise(
            _moved_block, index, keys, index, old, None, new, None, dtype=bool,
            meta=_block_meta(keys.ndim, bool))
    pd = importlib.import_module("pandas")
    return keys.map_partitions(_moved_series, old, new,
                               meta=pd.Series([], dtype=bool, name="moved"))


def _count(owners: Any, nodes: int) -> np.ndarray:
    flat = np.asarray(owners).reshape(-1)
    return np.bincount(flat[flat >= 0], minlength=nodes).astype(np.int64)


def _total(counts: list) -> np.ndarray:
    return np.asarray(np.sum(counts, axis=0, dtype=np.int64))


def load(data: Any, column: str | None, ring: HashRing | RingLayout, *,
         skip_nulls: bool = False, compute: bool = True) -> Any:
    """How many of the keys each node owns (a Load), counted partition by
    partition; compute=False gives a Delayed of it."""
    dask = _dask()
    layout = _snapshot(ring)
    owners = route(data, column, layout, null=-1 if skip_nulls else None)
    nodes = len(layout.nodes)
    parts = owners.to_delayed()  # a list (dask Series) or an object array (dask Array)
    if isinstance(parts, np.ndarray):
        parts = parts.ravel().tolist()
    counts = [dask.delayed(_count)(part, nodes) for part in parts]
    result = dask.delayed(Load)(layout.nodes, dask.delayed(_total)(counts))
    return result.compute() if compute else result


# -- moving rows -------------------------------------------------------------------------

def _frame_and_ring(data: Any, column: str, ring: object, what: str) -> RingLayout:
    """Check a dask DataFrame, its key column and a ring with nodes; the snapshot."""
    dd = _dask("dask.dataframe")
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"{what} takes a dask DataFrame, not {type(data).__name__}")
    layout = _snapshot(ring)
    if not layout.nodes:
        raise ValueError("the ring has no nodes")
    _keys_of(data, column)
    return layout


_PARTITION = "_partitions"  # the column dask's shuffle reads output partition numbers from


def partition_by_ring(data: Any, column: str, ring: HashRing | RingLayout, *,
                      skip_nulls: bool = False, shuffle_method: str | None = None) -> Any:
    """A dask DataFrame with one partition per node, partition i holding exactly
    the rows whose key ``ring.nodes[i]`` owns (empty partitions too), moved
    by Dask's own shuffle (tasks or p2p: ``shuffle_method``). Rows with a null
    key are an error when computed, or left out with skip_nulls=True."""
    layout = _frame_and_ring(data, column, ring, "partition_by_ring")
    if _PARTITION in data.columns:
        raise ValueError(f"the DataFrame has a column {_PARTITION!r}, which dask's shuffle uses")
    if skip_nulls:
        data = data[data[column].notnull()]
    owners = route(data, column, layout)
    framed = data.assign(**{_PARTITION: owners})
    # Shuffle (the step below DataFrame.shuffle, which hashes its column
    # first) sends each row to the partition its "_partitions" value names.
    try:
        shuffle = importlib.import_module("dask.dataframe.dask_expr._shuffle")
        collection = importlib.import_module("dask.dataframe.dask_expr._collection")
        moved_rows = collection.new_collection(shuffle.Shuffle(
            framed.expr, _PARTITION, len(layout.nodes), False, shuffle_method, {}))
    except (ImportError, AttributeError) as e:
        raise RuntimeError("partition_by_ring needs the shuffle of dask's expressions "
                           f"(dask >= 2025.1): {e}") from None
    if _PARTITION in moved_rows.columns:
        moved_rows = moved_rows.drop(columns=[_PARTITION])
    return moved_rows


def node_folder(path: str, name: str) -> str:
    """Where to_parquet_by_node writes a node's dataset: ``path/node=<name>``,
    the name percent-encoded as pyarrow's hive partitioning decodes it."""
    return os.path.join(path, f"{NODE_COLUMN}={quote(name, safe='')}")


def _write_partition(frame: Any, number: int, column: str, shipped: ShippedRing,
                     staging: str, skip_nulls: bool, write_index: bool,
                     options: dict) -> int:
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    layout = shipped.layout
    keys = frame[column]
    owners = layout.route(keys, null=-1 if skip_nulls else None)
    table = pa.Table.from_pandas(frame, preserve_index=write_index)
    order = np.argsort(owners, kind="stable")
    sorted_owners = owners[order]
    bounds = np.searchsorted(sorted_owners, np.arange(len(layout.nodes) + 1))
    rows = table.take(pa.array(order))
    for node, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
        if hi > lo:
            folder = node_folder(staging, layout.nodes[node])
            os.makedirs(folder, exist_ok=True)
            pq.write_table(rows.slice(lo, hi - lo),
                           os.path.join(folder, f"part-{number:06d}.parquet"), **options)
    return len(frame)


def _commit(written: list, staging: str, path: str, names: tuple[str, ...], schema: Any,
            overwrite: bool, options: dict) -> list[str]:
    """Move each node's folder from staging into place (one rename each: a
    reader sees a node's dataset whole or not at all)."""
    pq = importlib.import_module("pyarrow.parquet")
    folders = []
    for name in names:
        staged = node_folder(staging, name)
        if not os.path.isdir(staged):  # a node without rows: a dataset with no rows
            os.makedirs(staged)
            pq.write_table(schema.empty_table(), os.path.join(staged, "part-empty.parquet"),
                           **options)
        final = node_folder(path, name)
        if os.path.lexists(final):
            if not overwrite:
                raise FileExistsError(f"{final} exists (overwrite=True replaces it)")
            old = os.path.join(staging, f".old-{uuid.uuid4().hex}")
            os.replace(final, old)
            os.replace(staged, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staged, final)
        folders.append(final)
    shutil.rmtree(staging, ignore_errors=True)
    return folders


def to_parquet_by_node(data: Any, column: str, ring: HashRing | RingLayout, path: str, *,
                       overwrite: bool = False, skip_nulls: bool = False,
                       write_index: bool = False, compute: bool = True,
                       **parquet_options: Any) -> Any:
    """Write one Parquet dataset per node, ``path/node=<name>/`` (hive style:
    ``pyarrow.dataset.dataset(path, partitioning="hive")`` reads the node back
    as a column), with no shuffle: each partition writes its rows for each
    node beside the others, in a staging folder under ``path``, and each
    node's folder is renamed into place once all are written. ``path`` must be
    a folder every worker and this process see (a local or shared file
    system). Returns the node folders (or, with compute=False, a Delayed)."""
    dask = _dask()
    pa = _dask("pyarrow")
    layout = _frame_and_ring(data, column, ring, "to_parquet_by_node")
    if NODE_COLUMN in data.columns:
        raise ValueError(f"the DataFrame has a column {NODE_COLUMN!r}, which the folder "
                         "names hold; rename it first")
    os.makedirs(path, exist_ok=True)
    if not overwrite:
        for name in layout.nodes:
            if os.path.lexists(node_folder(path, name)):
                raise FileExistsError(f"{node_folder(path, name)} exists "
                                      "(overwrite=True replaces it)")
    staging = os.path.join(path, f".ringcore-staging-{uuid.uuid4().hex}")
    os.makedirs(staging)
    schema = pa.Schema.from_pandas(data._meta, preserve_index=write_index)
    shipped = ship(layout)
    parts = data.to_delayed()
    written = [dask.delayed(_write_partition)(part, i, column, shipped, staging, skip_nulls,
                                              write_index, parquet_options)
               for i, part in enumerate(parts)]
    result = dask.delayed(_commit)(written, staging, path, layout.nodes, schema, overwrite,
                                   parquet_options)
    if not compute:
        return result
    try:
        return result.compute()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
