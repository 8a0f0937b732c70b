"""Pure-Python reference implementation of docs/SPEC.md.

A literal reading of the spec: lists, ``bisect`` and the ``xxhash`` package.
It is the yardstick the compiled core is tested against, and a baseline in
the benchmarks. numpy is used only to return arrays in the same form as the
core; every rule of the spec is plain Python here.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import xxhash

from . import _config
from .errors import EmptyRingError, batch_item_error, null_key_error
from .load import Load
from .plan import Plan

__all__ = ["HashRing", "key_bytes", "hash_key", "vnode_position"]

_RING = _config.HASH_SPACE


class _Null:
    """A null of a columnar input (SPEC.md 8), as read by this module."""

    def __repr__(self) -> str:
        return "<null>"


_NULL = _Null()


def _is(value: object, cls: type | tuple[type, ...]) -> bool:
    """Whether value's type is cls or a subclass (an object cannot pose as
    another type through a __class__ attribute)."""
    return issubclass(type(value), cls)


def key_bytes(key: Any) -> bytes:
    """The bytes a key is hashed as (SPEC.md 1): the value itself, whatever
    methods a subclass of str, bytes or int overrides."""
    if _is(key, str):
        return str.encode(key, "utf-8")
    if _is(key, bytes):
        return bytes.__getitem__(key, slice(None))
    if _is(key, int) and not _is(key, bool):
        return _int_bytes(int.__index__(key))
    if _is(key, bytearray):
        return bytes(bytearray.__getitem__(key, slice(None)))
    if _is(key, memoryview):
        return key.tobytes()
    if _is(key, np.integer):
        return _int_bytes(int(key))
    raise TypeError(f"unsupported key type {type(key).__name__}")


def _int_bytes(value: int) -> bytes:
    if not -(2**63) <= value < 2**64:
        raise OverflowError(f"int key {value} is outside [-2**63, 2**64)")
    return (value % _RING).to_bytes(8, "little")


def hash_key(key: object) -> int:
    """XXH3-64 (seed 0) of the key's bytes (SPEC.md 2)."""
    return xxhash.xxh3_64_intdigest(key_bytes(key))


def vnode_position(name: str, j: int) -> int:
    """Position of point j of node `name` (SPEC.md 3)."""
    return xxhash.xxh3_64_intdigest(name.encode("utf-8") + b"#" + str(j).encode("ascii"))


# -- batch inputs (SPEC.md 8), read here without the core's batch reader ----------------


def _batch(keys: Any) -> tuple[list, tuple[int, ...]]:
    """The keys of a batch as a list (_NULL for nulls), and the result's shape."""
    if _is(keys, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"keys must be a sequence of keys, not a single {type(keys).__name__}")
    if _is(keys, np.ndarray):
        return _numpy_keys(keys)
    module = type(keys).__module__.partition(".")[0]
    if module == "pyarrow":
        items = _arrow_keys(keys)
    elif module == "pandas":
        return _pandas_keys(keys)
    elif module == "polars":
        items = _polars_keys(keys)
    elif isinstance(keys, Iterable):
        items = list(keys)
    else:
        raise TypeError(f"keys must be an iterable of keys, not {type(keys).__name__}")
    return items, (len(items),)


def _numpy_keys(keys: np.ndarray) -> tuple[list, tuple[int, ...]]:
    if _is(keys, np.ma.MaskedArray):
        raise TypeError("masked arrays are not supported")
    array = np.ndarray.view(keys, np.ndarray)  # a subclass is read as the ndarray it is
    kind, width = array.dtype.kind, array.dtype.itemsize
    flat = array.reshape(-1)
    if kind in "iu":
        items: list = flat.tolist()
    elif kind == "S":
        raw = flat.tobytes()
        items = [raw[i * width : (i + 1) * width].rstrip(b"\0") for i in range(flat.size)]
    elif kind == "U":
        codes = np.frombuffer(flat.tobytes(), dtype=np.dtype(np.uint32).newbyteorder(
            array.dtype.byteorder)).tolist()
        per_key = width // 4
        items = [_ucs4_text(codes[i * per_key : (i + 1) * per_key], i) for i in range(flat.size)]
    elif kind == "O":
        items = flat.tolist()
    elif kind == "T":
        items = flat.tolist()
        na = getattr(array.dtype, "na_object", _NULL)
        if na is not _NULL:
            items = [_NULL if _is_na(v, na) else v for v in items]
    else:
        raise TypeError(f"unsupported key array dtype {array.dtype}")
    return items, array.shape


class _NoText:
    """A numpy U element holding a code point above U+10FFFF: not a string,
    an error when its turn comes to be hashed (SPEC.md 8)."""

    def __init__(self, code: int, position: int) -> None:
        self.reason = f"code point {code:#x} at position {position} is above U+10FFFF"


def _ucs4_text(codes: list[int], index: int) -> str | _NoText:
    """A numpy U element from its code points, trailing NULs dropped."""
    while codes and codes[-1] == 0:
        codes.pop()
    for position, code in enumerate(codes):
        if code > 0x10FFFF:
            return _NoText(code, position)
    return "".join(map(chr, codes))


def _is_na(value: object, na: object) -> bool:
    if isinstance(na, float) and na != na:
        return isinstance(value, float) and value != value
    return value is na


def _arrow_keys(keys: Any) -> list:
    pa = importlib.import_module("pyarrow")
    if isinstance(keys, pa.ChunkedArray):
        chunks = keys.chunks
    elif isinstance(keys, pa.Array):
        chunks = [keys]
    else:
        raise TypeError(f"unsupported pyarrow input {type(keys).__name__}")
    if not _arrow_holds_keys(pa, keys.type):  # even when there are no values
        raise TypeError(f"unsupported key array type {keys.type} (Arrow)")
    items: list = []
    for chunk in chunks:
        items.extend(_arrow_values(pa, chunk))
    return items


def _arrow_holds_keys(pa: Any, t: Any) -> bool:
    if isinstance(t, pa.BaseExtensionType):
        return _arrow_holds_keys(pa, t.storage_type)
    if pa.types.is_dictionary(t) or pa.types.is_run_end_encoded(t):
        return _arrow_holds_keys(pa, t.value_type)
    return str(t) in _ARROW_AS_BINARY or pa.types.is_null(t) or _arrow_bytes_or_int(pa, t)


def _arrow_bytes_or_int(pa: Any, t: Any) -> bool:
    return (pa.types.is_integer(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
            or pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t))


_ARROW_AS_BINARY = {"string": "binary", "large_string": "large_binary", "string_view": "binary_view"}


def _arrow_values(pa: Any, array: Any) -> list:
    """The keys of one Arrow array: text as its stored bytes (unchecked
    UTF-8), binary as bytes, integers as ints, nulls as _NULL."""
    t = array.type
    if isinstance(t, pa.BaseExtensionType):
        return _arrow_values(pa, array.storage)
    if pa.types.is_dictionary(t):
        words = _arrow_values(pa, array.dictionary)
        items = []
        for i in _arrow_values(pa, array.indices):
            if i is not _NULL and not 0 <= i < len(words):
                raise IndexError(f"dictionary index {i} is out of range")
            items.append(_NULL if i is _NULL else words[i])
        return items
    if pa.types.is_run_end_encoded(t):
        ends = _arrow_values(pa, array.run_ends)
        values = _arrow_values(pa, array.values)
        return [values[bisect.bisect_right(ends, array.offset + i)] for i in range(len(array))]
    as_bytes = _ARROW_AS_BINARY.get(str(t))
    if as_bytes is not None:
        t = getattr(pa, as_bytes)()
    elif not (pa.types.is_null(t) or _arrow_bytes_or_int(pa, t)):
        raise TypeError(f"unsupported key array type {t} (Arrow)")
    # From the buffers alone (nulls are what the bitmap says, whatever count the
    # array claims), fully checked: to_pylist trusts offsets and views.
    array = pa.Array.from_buffers(t, len(array), array.buffers(), offset=array.offset)
    array.validate(full=True)
    return [_NULL if v is None else v for v in array.to_pylist()]


def _pandas_keys(keys: Any) -> tuple[list, tuple[int, ...]]:
    pd = importlib.import_module("pandas")
    if isinstance(keys, pd.DataFrame) or not isinstance(keys, (pd.Series, pd.Index)):
        raise TypeError(f"unsupported pandas input {type(keys).__name__}; pass a Series")
    array = keys.array
    arrow_backed = tuple(
        getattr(pd.arrays, name) for name in ("ArrowExtensionArray", "ArrowStringArray")
        if hasattr(pd.arrays, name)
    )
    if isinstance(array, arrow_backed + (pd.arrays.IntegerArray,)):
        items = _arrow_keys(importlib.import_module("pyarrow").array(array))
        return items, (len(items),)
    dtype = keys.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuSU":
        return _numpy_keys(keys.to_numpy())
    if not (dtype == object or isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype))):  # noqa: E721 - a numpy dtype
        raise TypeError(f"unsupported key Series dtype {dtype}")
    values = keys.to_numpy(dtype=object)
    missing = pd.isna(values)
    items = [_NULL if m else v for v, m in zip(values.tolist(), missing.tolist())]
    return items, (len(items),)


def _polars_keys(keys: Any) -> list:
    pl = importlib.import_module("polars")
    if not isinstance(keys, pl.Series):
        raise TypeError(f"unsupported polars input {type(keys).__name__}; pass a Series")
    dtype = keys.dtype
    if not (_polars_int64(pl, dtype) or isinstance(dtype, (pl.Categorical, pl.Enum))
            or dtype in (pl.String, pl.Binary, pl.Null)):
        raise TypeError(f"unsupported key Series dtype {dtype} (polars)")
    return [_NULL if v is None else v for v in keys.to_list()]


def _polars_int64(pl: Any, dtype: Any) -> bool:
    """Integers of up to 64 bits: polars' Int128 and UInt128 are not keys."""
    return bool(dtype.is_integer()) and str(dtype) not in ("Int128", "UInt128")


def _hash_values(hashes: Any) -> tuple[list, tuple[int, ...]]:
    """The hashes of a route_hashes batch as ints, and the result's shape."""
    if _is(hashes, (str, bytes, bytearray)):
        raise TypeError(f"hashes must be integers, not {type(hashes).__name__}")
    if not _is(hashes, np.ndarray) and type(hashes).__module__.partition(".")[0] not in (
        "pyarrow", "pandas", "polars"
    ):
        try:
            view = memoryview(hashes)
        except TypeError:
            view = None
        if view is not None:
            if view.format.lstrip("@=<>!") in ("B", "b", "c"):
                raise TypeError(f"hashes must be integers, not bytes ({type(hashes).__name__})")
            hashes = np.asarray(view)
    if _is(hashes, np.ndarray):
        array = np.ndarray.view(hashes, np.ndarray)
        if array.dtype.kind not in "iu":
            raise TypeError(f"hashes must be integers, not {array.dtype}")
        return array.reshape(-1).tolist(), array.shape
    module = type(hashes).__module__.partition(".")[0]
    if module in ("pyarrow", "pandas", "polars"):
        values = _column_hashes(hashes, module)
        return values, (len(values),)
    return _batch(hashes)


def _column_hashes(hashes: Any, module: str) -> list:
    """The values of an Arrow, pandas or polars integer column without nulls."""
    if module == "pyarrow":
        pa = importlib.import_module("pyarrow")
        if not isinstance(hashes, (pa.Array, pa.ChunkedArray)):
            raise TypeError(f"unsupported pyarrow input {type(hashes).__name__}; pass an Array")
        is_int, nulls = pa.types.is_integer(hashes.type), hashes.null_count
    elif module == "pandas":
        pd = importlib.import_module("pandas")
        if not isinstance(hashes, (pd.Series, pd.Index)):
            raise TypeError(f"unsupported pandas input {type(hashes).__name__}; pass a Series")
        is_int, nulls = hashes.dtype.kind in "iu", hashes.isna().sum()
    else:
        pl = importlib.import_module("polars")
        if not isinstance(hashes, pl.Series):
            raise TypeError(f"unsupported polars input {type(hashes).__name__}; pass a Series")
        is_int, nulls = _polars_int64(pl, hashes.dtype), hashes.null_count()
    if not is_int:
        kind = hashes.type if module == "pyarrow" else hashes.dtype
        raise TypeError(f"hashes must be integers, not {kind}")
    if nulls:
        raise ValueError("hashes must not contain nulls")
    return hashes.to_pylist() if module == "pyarrow" else hashes.to_list()


def _hashes(items: list, null: int | None, routing: bool) -> list:
    """The hash of every key; None for a null when a null value is given."""
    hashes: list = []
    for i, key in enumerate(items):
        if key is _NULL or (key is None and null is not None):
            if null is not None:
                hashes.append(None)
                continue
            raise null_key_error(i, routing)
        if key is None and routing:
            raise TypeError(f"keys[{i}]: unsupported key type NoneType (pass null=<int> "
                            "to route None and nulls to that value)")
        if isinstance(key, _NoText):
            raise ValueError(f"keys[{i}]: {key.reason} and has no UTF-8")
        try:
            hashes.append(hash_key(key))
        except (TypeError, ValueError, OverflowError) as err:
            raise batch_item_error(err, i) from None
    return hashes


class HashRing:
    """Consistent-hash ring with virtual nodes (pure-Python reference)."""

    def __init__(
        self, nodes: Iterable[str] | Mapping[str, Any] = (), *, vnodes: int | None = None
    ):
        self._setup(nodes, vnodes)

    def _setup(self, nodes: object, vnodes: object) -> None:
        self._vnodes = _config.check_vnodes(160 if vnodes is None else vnodes)
        self._version = 0
        self._weights: dict[str, float] = {}
        self._zones: dict[str, str | None] = {}
        # Ring order: sorted by (position, UTF-8 name, j) (SPEC.md 4).
        self._points: list[tuple[int, bytes, int, str]] = []
        names, weights, zones = _config.node_columns(nodes)
        counts = [_config.point_count(self._vnodes, w, name) for name, w in zip(names, weights)]
        _config.check_total_points(sum(counts))
        for name, weight, zone, count in zip(names, weights, zones, counts):
            self._weights[name] = weight
            self._zones[name] = zone
            self._points.extend(self._node_points(name, count))
        self._points.sort()

    @staticmethod
    def _node_points(name: str, count: int) -> list[tuple[int, bytes, int, str]]:
        raw = name.encode("utf-8")
        return [(vnode_position(name, j), raw, j, name) for j in range(count)]

    # -- configuration -------------------------------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._weights)

    @property
    def weights(self) -> dict[str, float]:
        return dict(self._weights)

    @property
    def zones(self) -> dict[str, str | None]:
        return dict(self._zones)

    @property
    def vnodes(self) -> int:
        return self._vnodes

    def add_node(self, name: str, weight: float = 1.0, zone: str | None = None) -> None:
        name = _config.check_name(name)
        weight = _config.check_weight(weight, name)
        zone = _config.check_zone(zone, name)
        count = _config.point_count(self._vnodes, weight, name)
        if name in self._weights:
            raise ValueError(f"node {name!r} is already in the ring")
        _config.check_total_points(len(self._points) + count)
        self._points = sorted(self._points + self._node_points(name, count))
        self._weights[name] = weight
        self._zones[name] = zone
        self._version += 1

    def remove_node(self, name: str) -> None:
        name = _config.exact_name(name)
        if name not in self._weights:
            raise KeyError(f"node {name!r} is not in the ring")
        self._points = [p for p in self._points if p[3] != name]
        del self._weights[name]
        del self._zones[name]
        self._version += 1

    @property
    def version(self) -> int:
        """Updates since the ring was built (SPEC.md 8)."""
        return self._version

    # -- lookups -------------------------------------------------------------------

    def _first_point(self, h: int) -> int:
        """Index in ring order of the point that owns hash h (SPEC.md 5)."""
        if not self._points:
            raise EmptyRingError()
        i = bisect.bisect_left(self._points, (h,))
        return 0 if i == len(self._points) else i

    def get_node(self, key: object) -> str:
        h = hash_key(key)
        return self._points[self._first_point(h)][3]

    def get_nodes(self, key: object, n: int, *, distinct_zones: bool = False) -> list[str]:
        _config.check_distinct_zones(distinct_zones)
        h = hash_key(key)
        n = _config.check_replica_type(n)
        if not self._points:
            raise EmptyRingError()
        _config.check_replica_range(n, len(self._weights))
        if distinct_zones:
            _config.check_zone_range(n, self._zone_count())
        return self._walk(self._first_point(h), n, distinct_zones)

    def hash_keys(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        _config.check_threads(threads)
        items, shape = _batch(keys)
        return np.array(_hashes(items, None, routing=False), dtype=np.uint64).reshape(shape)

    def route_hashes(
        self, hashes: object, *, threads: int | None = None, return_nodes: bool = False
    ) -> Any:
        _config.check_threads(threads)
        values, shape = _hash_values(hashes)
        checked = []
        for i, h in enumerate(values):
            if _is(h, bool) or not (_is(h, int) or _is(h, np.integer)):
                raise TypeError(f"hashes[{i}]: a hash must be an int, not {type(h).__name__}")
            h = int.__index__(h) if _is(h, int) else int(h)
            if not 0 <= h < _RING:
                raise ValueError(f"hashes[{i}]: {h} is outside [0, 2**64)")
            checked.append(h)
        out = self._owner_indices(checked)
        routed = np.array(out, dtype=np.int32).reshape(shape)
        return (routed, self.nodes) if return_nodes else routed

    def _owner_indices(self, hashes: list[int]) -> list[int]:
        index = {name: i for i, name in enumerate(self._weights)}
        return [index[self._points[self._first_point(h)][3]] for h in hashes]

    def route(
        self,
        keys: object,
        *,
        threads: int | None = None,
        null: int | None = None,
        return_nodes: bool = False,
    ) -> Any:
        """Owner indices; `null` is written for nulls (and None) when given.
        `threads` is checked as the core checks it, then ignored."""
        _config.check_threads(threads)
        if null is not None:
            null = _config.check_null(null)
        items, shape = _batch(keys)
        hashes = _hashes(items, null, routing=True)
        if hashes and not self._points:
            raise EmptyRingError()  # even when every key is a null (SPEC.md 8)
        owners = self._owner_indices([h for h in hashes if h is not None])
        it = iter(owners)
        out = [null if h is None else next(it) for h in hashes]
        routed = np.array(out, dtype=np.int32).reshape(shape)
        return (routed, self.nodes) if return_nodes else routed

    def _zone_of(self, name: str) -> tuple[str, str]:
        """A node's zone for walks over distinct zones: a node without one is
        a zone of its own (SPEC.md 6)."""
        zone = self._zones[name]
        return ("node", name) if zone is None else ("zone", zone)

    def _zone_count(self) -> int:
        return len({self._zone_of(name) for name in self._weights})

    def _walk(self, start: int, n: int, distinct_zones: bool = False) -> list[str]:
        """The first n owners of distinct nodes (or zones) walking clockwise
        from point start (SPEC.md 6)."""
        taken: list[str] = []
        used: set = set()
        for step in range(len(self._points)):
            owner = self._points[(start + step) % len(self._points)][3]
            mark = self._zone_of(owner) if distinct_zones else owner
            if mark not in used:
                used.add(mark)
                taken.append(owner)
                if len(taken) == n:
                    break
        return taken

    def route_replicas(
        self, keys: object, n: int, *, threads: int | None = None, null: int | None = None,
        distinct_zones: bool = False,
    ) -> Any:
        """Row i: get_nodes(keys[i], n) as indices (SPEC.md 10)."""
        _config.check_threads(threads)
        if null is not None:
            null = _config.check_null(null)
        count = _config.check_replica_count(n)
        _config.check_distinct_zones(distinct_zones)
        items, shape = _batch(keys)
        hashes = _hashes(items, null, routing=True)
        if hashes and not self._points:
            raise EmptyRingError()
        if self._weights:
            _config.check_replica_range(count, len(self._weights), allow_zero=True)
            if distinct_zones:
                _config.check_zone_range(count, self._zone_count())
        index = {name: i for i, name in enumerate(self._weights)}
        rows = [
            [null] * count if h is None
            else [index[name]
                  for name in self._walk(self._first_point(h), count, distinct_zones)]
            for h in (hashes if count else [])
        ]
        out = np.array(rows, dtype=np.int32).reshape(shape + (count,))
        return out

    def assign_bounded(
        self, keys: object, epsilon: float, *, threads: int | None = None,
        null: int | None = None,
    ) -> Any:
        """Bounded loads (SPEC.md 11): keys in order, each to the first node
        clockwise from its point that has room."""
        _config.check_threads(threads)
        eps = _config.check_epsilon(epsilon)
        if null is not None:
            null = _config.check_null(null)
        items, shape = _batch(keys)
        hashes = _hashes(items, null, routing=True)
        if hashes and not self._points:
            raise EmptyRingError()
        names = list(self._weights)
        nkeys = sum(h is not None for h in hashes)
        room = dict(
            zip(names, _config.bounded_capacities(eps, nkeys, tuple(self._weights.values())))
        )
        index = {name: i for i, name in enumerate(names)}
        out = []
        for h in hashes:
            if h is None:
                out.append(null)
                continue
            i = self._first_point(h)
            while room[self._points[i][3]] == 0:
                i = (i + 1) % len(self._points)
            owner = self._points[i][3]
            room[owner] -= 1
            out.append(index[owner])
        return np.array(out, dtype=np.int32).reshape(shape)

    def load(self, keys: object, *, threads: int | None = None, skip_nulls: bool = False) -> Load:
        """Keys per node (SPEC.md 12)."""
        if not isinstance(skip_nulls, bool):
            raise TypeError(f"skip_nulls must be a bool, not {type(skip_nulls).__name__}")
        owners = self.route(keys, threads=threads, null=-1 if skip_nulls else None)
        counts = [0] * len(self._weights)
        for owner in owners.reshape(-1).tolist():
            if owner >= 0:
                counts[owner] += 1
        return Load(self.nodes, np.array(counts, dtype=np.int64))

    def diff(self, new: HashRing) -> Plan:
        """The hash ranges whose owner changes from this ring to new (SPEC.md 13)."""
        if not isinstance(new, HashRing):
            raise TypeError(f"diff takes a reference HashRing, not {type(new).__name__}")
        old_points = [(p[0], p[3]) for p in self._points]
        new_points = [(p[0], p[3]) for p in new._points]
        starts: list[int] = []
        ends: list[int] = []
        pairs: list[tuple[str | None, str | None]] = []

        def owner(points: list[tuple[int, str]], h: int) -> str | None:
            if not points:
                return None
            i = bisect.bisect_left(points, (h,))
            return points[i % len(points)][1]

        boundaries = sorted({p for p, _ in old_points} | {p for p, _ in new_points})
        prev = boundaries[-1] if boundaries else 0
        for p in boundaries:
            pair = (owner(old_points, p), owner(new_points, p))
            if pair[0] != pair[1]:
                if ends and ends[-1] == prev and pairs[-1] == pair:
                    ends[-1] = p
                else:
                    starts.append(prev)
                    ends.append(p)
                    pairs.append(pair)
            prev = p
        old_index: dict[str | None, int] = {name: i for i, name in enumerate(self._weights)}
        new_index: dict[str | None, int] = {name: i for i, name in enumerate(new._weights)}
        return Plan(
            self, new, np.array(starts, dtype=np.uint64), np.array(ends, dtype=np.uint64),
            np.array([old_index.get(a, -1) for a, _ in pairs], dtype=np.int32),
            np.array([new_index.get(b, -1) for _, b in pairs], dtype=np.int32),
        )

    def ownership(self) -> dict[str, float]:
        """Fraction of the 2**64 hash space each node owns (SPEC.md 7)."""
        owned = {name: 0 for name in self._weights}
        for i, (pos, _, _, name) in enumerate(self._points):
            prev = self._points[i - 1][0]
            owned[name] += (pos - prev) % _RING if i else pos - prev + _RING
        return {name: total / _RING for name, total in owned.items()}

    @property
    def positions(self) -> np.ndarray:
        arr = np.array([p[0] for p in self._points], dtype=np.uint64)
        arr.flags.writeable = False
        return arr

    @property
    def owners(self) -> np.ndarray:
        index = {name: i for i, name in enumerate(self._weights)}
        arr = np.array([index[p[3]] for p in self._points], dtype=np.int32)
        arr.flags.writeable = False
        return arr

    # -- protocol ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._weights)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and str.__str__(name) in self._weights

    def __eq__(self, other: object) -> bool:
        """Same vnodes, nodes, weights and node order (SPEC.md 8)."""
        if not isinstance(other, HashRing):
            return NotImplemented
        return (
            self._vnodes == other._vnodes
            and list(self._weights.items()) == list(other._weights.items())
            and self._zones == other._zones
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if any(zone is not None for zone in self._zones.values()):
            nodes = {name: {"weight": w, "zone": self._zones[name]}
                     for name, w in self._weights.items()}
            return f"reference.HashRing({nodes!r}, vnodes={self._vnodes})"
        return f"reference.HashRing({self._weights!r}, vnodes={self._vnodes})"

    def __getstate__(self) -> dict:
        return {"vnodes": self._vnodes, "nodes": list(self._weights.items()),
                "version": self._version, "zones": dict(self._zones)}

    def __setstate__(self, state: dict) -> None:
        zones = state.get("zones", {})
        self._setup({name: {"weight": w, "zone": zones.get(name)} for name, w in state["nodes"]},
                    state["vnodes"])
        self._version = state.get("version", 0)
