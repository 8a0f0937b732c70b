"""Plain-Python models of the dialect rings (docs/SPEC.md 14), of jump
consistent hashing (Lamping and Veach) and of pymemcache's rendezvous
hasher, written from their rules with hashlib and Python ints, for the
harnesses to compare ringcore's answers with. ringcore.reference implements
the default dialect only; these fill in the rest.

Checks of names, weights, vnodes, replica counts, threads and nulls are
ringcore._config's, as the reference shares them; batch inputs are read by
the reference's readers. Everything a dialect changes is written out here.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Iterable, Mapping

import numpy as np

from ringcore import _config, reference
from ringcore.errors import EmptyRingError, batch_item_error, null_key_error

MASK32 = 0xFFFFFFFF
MASK64 = 2**64 - 1
RING32 = 2**32
MAX_POINTS = 2**31 - 1
DIALECTS = ("ketama", "libmemcached", "libmemcached-weighted")
DEFAULT_VNODES = {"ketama": 40, "libmemcached": 100, "libmemcached-weighted": 160}


# -- hashes ----------------------------------------------------------------------------


def md5_low32(data: bytes) -> int:
    """Bytes 0..3 of the MD5 digest, little-endian."""
    return int.from_bytes(hashlib.md5(data).digest()[:4], "little")


def oaat(data: bytes) -> int:
    """Jenkins one-at-a-time over signed chars (libmemcached on x86)."""
    h = 0
    for byte in data:
        h = (h + (byte - 256 if byte >= 128 else byte)) & MASK32
        h = (h + (h << 10)) & MASK32
        h ^= h >> 6
    h = (h + (h << 3)) & MASK32
    h ^= h >> 11
    return (h + (h << 15)) & MASK32


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK32


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, from the published algorithm."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & MASK32
    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (_rotl((k * c1) & MASK32, 15) * c2) & MASK32
        h = (_rotl(h ^ k, 13) * 5 + 0xE6546B64) & MASK32
    tail = data[whole:]
    if tail:
        k = int.from_bytes(tail, "little")
        h ^= (_rotl((k * c1) & MASK32, 15) * c2) & MASK32
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    return h ^ (h >> 16)


def jump(key: int, buckets: int) -> int:
    """Lamping and Veach's jump consistent hash, in the paper's arithmetic:
    a 64-bit LCG step per jump, the next jump from binary64 doubles."""
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & MASK64
        j = int(float(b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


# -- dialect keys ------------------------------------------------------------------------


def _is(value: object, cls) -> bool:
    return issubclass(type(value), cls)


def key_bytes(key: object) -> bytes:
    """What a dialect ring hashes: SPEC.md 1's bytes, but an int as the
    decimal text of its value modulo 2**64."""
    raw = reference.key_bytes(key)
    if (_is(key, int) and not _is(key, bool)) or _is(key, np.integer):
        return str(int.from_bytes(raw, "little")).encode("ascii")
    return raw


def key_hash(dialect: str, key: object) -> int:
    raw = key_bytes(key)
    return oaat(raw) if dialect == "libmemcached" else md5_low32(raw)


def _hashes(dialect: str, items: list, null, routing: bool) -> list:
    """As reference._hashes, with the dialect's key hash."""
    hashes: list = []
    for i, key in enumerate(items):
        if key is reference._NULL or (key is None and null is not None):
            if null is not None:
                hashes.append(None)
                continue
            raise null_key_error(i, routing)
        if key is None and routing:
            raise TypeError(f"keys[{i}]: unsupported key type NoneType")
        if isinstance(key, reference._NoText):
            raise ValueError(f"keys[{i}]: no UTF-8")
        try:
            hashes.append(key_hash(dialect, key))
        except (TypeError, ValueError, OverflowError) as err:
            raise batch_item_error(err, i) from None
    return hashes


def checked_hashes(hashes: object) -> tuple[list, tuple]:
    """route_hashes' reading of hashes: ints in [0, 2**64)."""
    values, shape = reference._hash_values(hashes)
    out = []
    for i, h in enumerate(values):
        if _is(h, bool) or not (_is(h, int) or _is(h, np.integer)):
            raise TypeError(f"hashes[{i}]: not an int")
        h = int.__index__(h) if _is(h, int) else int(h)
        if not 0 <= h < 2**64:
            raise ValueError(f"hashes[{i}]: out of range")
        out.append(h)
    return out, shape


# -- dialect points ----------------------------------------------------------------------


def point_base(dialect: str, name: str) -> str:
    if dialect == "ketama":
        return name
    host, colon, port = name.rpartition(":")
    return host if colon and port == "11211" else name


def _four(digest: bytes) -> list:
    return [int.from_bytes(digest[4 * k : 4 * k + 4], "little") for k in range(4)]


def _whole_weights(names, weights) -> None:
    for name, w in zip(names, weights):
        if w != math.floor(w):
            raise ValueError(f"weight of {name!r} is not a whole number")


def ketama_counts(vnodes: int, names, weights) -> list:
    total = 0.0
    for w in weights:
        total += w
    counts = []
    for name, w in zip(names, weights):
        try:
            digests = (float(vnodes) * len(weights) * w) // total
        except OverflowError:  # vnodes beyond any float
            raise ValueError(f"node {name!r} would get too many points") from None
        if not math.isfinite(digests):  # (a weight sum of inf)
            raise ValueError(f"node {name!r} gets no finite number of points")
        if digests < 1:
            raise ValueError(f"node {name!r} gets no points")
        if 4 * digests > MAX_POINTS:
            raise ValueError(f"node {name!r} would get too many points")
        counts.append(4 * int(digests))
    return counts


def weighted_counts(names, weights) -> list:
    f32 = np.float32
    with np.errstate(all="ignore"):
        total = f32(sum(weights))
        counts = []
        for name, w in zip(names, weights):
            x = f32(f32(f32(f32(w) / total) * f32(160)) / f32(4)) * f32(len(weights))
            if not math.isfinite(float(x)):
                raise ValueError(f"node {name!r}: weights beyond binary32")
            digests = math.floor(float(x) + 1e-10)
            if digests < 1:
                raise ValueError(f"node {name!r} gets no points")
            counts.append(4 * digests)
    return counts


def dialect_points(dialect: str, vnodes: int, names, weights) -> list:
    """(position, tie rank, owner index) of every point, in ring order."""
    counts: list
    if dialect == "ketama":
        counts = ketama_counts(vnodes, names, weights)
        oaat_points = False
    else:
        _whole_weights(names, weights)
        oaat_points = dialect == "libmemcached" and all(w == 1.0 for w in weights)
        if oaat_points:
            if names and vnodes > MAX_POINTS:
                raise ValueError("a node would get too many points")
            counts = [vnodes] * len(names)
        else:
            counts = weighted_counts(names, weights)
    if sum(counts) > MAX_POINTS:
        raise ValueError("the ring would have too many points")
    points = []
    for owner, (name, count) in enumerate(zip(names, counts)):
        base = point_base(dialect, name).encode("utf-8")
        # ketama: the node listed last first among equal positions; the
        # libmemcached dialects: the node listed first
        rank = -owner if dialect == "ketama" else owner
        if oaat_points:
            for i in range(count):
                points.append((oaat(base + b"-" + str(i).encode()), rank, owner))
        else:
            for i in range(count // 4):
                for p in _four(hashlib.md5(base + b"-" + str(i).encode()).digest()):
                    points.append((p, rank, owner))
    points.sort()
    return points


class DialectRing:
    """A ring of one dialect built again from its nodes on every update."""

    def __init__(self, nodes=(), *, vnodes=None, dialect="ketama") -> None:
        self.dialect = dialect
        self.vnodes = _config.check_vnodes(DEFAULT_VNODES[dialect] if vnodes is None else vnodes)
        names, weights, _ = _config.node_columns(nodes)
        self._set(names, weights)
        self.version = 0

    def _set(self, names, weights) -> None:
        points = dialect_points(self.dialect, self.vnodes, names, weights)
        self.names, self.node_weights = tuple(names), tuple(weights)
        self.pos = [p for p, _, _ in points]
        self.own = [o for _, _, o in points]

    @property
    def nodes(self):
        return self.names

    @property
    def weights(self):
        return dict(zip(self.names, self.node_weights))

    def __len__(self):
        return len(self.names)

    def __contains__(self, name):
        return isinstance(name, str) and str.__str__(name) in self.names

    def add_node(self, name, weight=1.0) -> None:
        name = _config.check_name(name)
        weight = _config.check_weight(weight, name)
        if name in self.names:
            raise ValueError(f"node {name!r} is already in the ring")
        self._set(self.names + (name,), self.node_weights + (weight,))
        self.version += 1

    def remove_node(self, name) -> None:
        name = _config.exact_name(name)
        if name not in self.names:
            raise KeyError(name)
        keep = [i for i, n in enumerate(self.names) if n != name]
        self._set(tuple(self.names[i] for i in keep), tuple(self.node_weights[i] for i in keep))
        self.version += 1

    # -- lookups -------------------------------------------------------------------------

    def _first(self, h: int) -> int:
        if not self.pos:
            raise EmptyRingError()
        i = bisect.bisect_left(self.pos, h)
        return 0 if i == len(self.pos) else i

    def _walk(self, start: int, n: int) -> list:
        taken: list = []
        for step in range(len(self.pos)):
            owner = self.own[(start + step) % len(self.pos)]
            if owner not in taken:
                taken.append(owner)
                if len(taken) == n:
                    break
        return taken

    def get_node(self, key):
        return self.names[self.own[self._first(key_hash(self.dialect, key))]]

    def get_nodes(self, key, n):
        h = key_hash(self.dialect, key)
        n = _config.check_replica_type(n)
        if not self.pos:
            raise EmptyRingError()
        _config.check_replica_range(n, len(self.names))
        return [self.names[i] for i in self._walk(self._first(h), n)]

    def hash_keys(self, keys, *, threads=None):
        _config.check_threads(threads)
        items, shape = reference._batch(keys)
        return np.array(_hashes(self.dialect, items, None, False), dtype=np.uint64).reshape(shape)

    def route_hashes(self, hashes, *, threads=None, return_nodes=False):
        _config.check_threads(threads)
        values, shape = checked_hashes(hashes)
        out = np.array([self.own[self._first(h)] for h in values], dtype=np.int32).reshape(shape)
        return (out, self.names) if return_nodes else out

    def _routed(self, keys, null):
        if null is not None:
            null = _config.check_null(null)
        items, shape = reference._batch(keys)
        hashes = _hashes(self.dialect, items, null, True)
        if hashes and not self.pos:
            raise EmptyRingError()
        return hashes, shape, null

    def route(self, keys, *, threads=None, null=None, return_nodes=False):
        _config.check_threads(threads)
        hashes, shape, null = self._routed(keys, null)
        out = [null if h is None else self.own[self._first(h)] for h in hashes]
        routed = np.array(out, dtype=np.int32).reshape(shape)
        return (routed, self.names) if return_nodes else routed

    def route_replicas(self, keys, n, *, threads=None, null=None):
        _config.check_threads(threads)
        if null is not None:
            null = _config.check_null(null)
        count = _config.check_replica_count(n)
        items, shape = reference._batch(keys)
        hashes = _hashes(self.dialect, items, null, True)
        if hashes and not self.pos:
            raise EmptyRingError()
        if self.names:
            _config.check_replica_range(count, len(self.names), allow_zero=True)
        rows = [[null] * count if h is None else self._walk(self._first(h), count)
                for h in (hashes if count else [])]
        return np.array(rows, dtype=np.int32).reshape(shape + (count,))

    def ownership(self) -> dict:
        owned = dict.fromkeys(self.names, 0)
        for i, (p, o) in enumerate(zip(self.pos, self.own)):
            owned[self.names[o]] += p - self.pos[i - 1] if i else p + RING32 - self.pos[-1]
        return {name: total / RING32 for name, total in owned.items()}

    def diff(self, new: DialectRing) -> tuple:
        """SPEC.md 13 on a 2**32 ring: (starts, ends, old names, new names,
        moved hashes), neighbouring ranges of one pair joined."""
        def owner(ring, h):
            return ring.names[ring.own[ring._first(h)]] if ring.pos else None

        bounds = sorted(set(self.pos) | set(new.pos))
        ranges: list = []
        prev = bounds[-1] if bounds else 0
        for b in bounds:
            pair = (owner(self, b), owner(new, b))
            if pair[0] != pair[1]:
                if ranges and ranges[-1][1] == prev and ranges[-1][2] == pair:
                    ranges[-1][1] = b
                else:
                    ranges.append([prev, b, pair])
            prev = b
        moved = sum((end - start) % RING32 or RING32 for start, end, _ in ranges)
        return ([s for s, _, _ in ranges], [e for _, e, _ in ranges],
                [p[0] for _, _, p in ranges], [p[1] for _, _, p in ranges], moved)


# -- jump and rendezvous -------------------------------------------------------------------


def _names(nodes) -> tuple:
    if isinstance(nodes, (str, bytes, bytearray)) or not isinstance(nodes, Iterable):
        raise TypeError("nodes must be an iterable of names")
    if isinstance(nodes, Mapping):
        raise TypeError("no weights")
    names, _, _ = _config.node_columns(list(nodes))
    return names


def _default_hashes(keys) -> tuple[list, tuple]:
    """The default dialect's key hashes (XXH3-64) of a batch, as hash_keys."""
    hashed = reference.HashRing().hash_keys(keys)
    return hashed.reshape(-1).tolist(), hashed.shape


class JumpModel:
    def __init__(self, nodes=()) -> None:
        self.nodes = _names(nodes)

    def add_node(self, name) -> None:
        name = _config.check_name(name)
        if name in self.nodes:
            raise ValueError("already there")
        self.nodes += (name,)

    def remove_node(self, name) -> None:
        name = _config.exact_name(name)
        if name not in self.nodes:
            raise KeyError(name)
        if name != self.nodes[-1]:
            raise ValueError("only the last node")
        self.nodes = self.nodes[:-1]

    def get_node(self, key):
        h = int(key) if _is(key, np.uint64) else reference.hash_key(key)
        if not self.nodes:
            raise EmptyRingError()
        return self.nodes[jump(h, len(self.nodes))]

    def route(self, keys, *, threads=None):
        _config.check_threads(threads)
        if isinstance(keys, np.ndarray) and keys.dtype.kind == "u" and keys.dtype.itemsize == 8:
            values, shape = np.asarray(keys).reshape(-1).tolist(), keys.shape
        else:
            values, shape = _default_hashes(keys)
        if not values:
            return np.empty(shape, dtype=np.int32)
        if not self.nodes:
            raise EmptyRingError()
        return np.array([jump(v, len(self.nodes)) for v in values], np.int32).reshape(shape)


def jump_hash(keys, buckets, *, threads=None):
    _config.check_threads(threads)
    if isinstance(buckets, bool) or not isinstance(buckets, (int, np.integer)):
        raise TypeError("buckets must be an int")
    buckets = int(buckets)
    if not 1 <= buckets <= MAX_POINTS:
        raise ValueError("buckets out of range")
    values, shape = checked_hashes(keys)
    return np.array([jump(v, buckets) for v in values], dtype=np.int32).reshape(shape)


def low_bytes(text: str) -> bytes:
    return bytes(ord(c) & 0xFF for c in text)


def rendezvous_text(key) -> bytes:
    """f"{key}" as pymemcache scores it, read by value (SPEC.md 1: a
    subclass's own hooks do not run)."""
    if _is(key, (bytes, bytearray, memoryview)):
        raw = key.tobytes() if _is(key, memoryview) else bytes(memoryview(key))
        return low_bytes(bytes.__repr__(raw))
    if _is(key, str):
        return low_bytes(str.__str__(key))
    if _is(key, int) and not _is(key, bool):
        return str(int.__index__(key)).encode("ascii")
    raise TypeError(f"unsupported key type {type(key).__name__}")


class RendezvousModel:
    def __init__(self, nodes=()) -> None:
        self.nodes = _names(nodes)

    def add_node(self, name) -> None:
        name = _config.check_name(name)
        if name in self.nodes:
            raise ValueError("already there")
        self.nodes += (name,)

    def remove_node(self, name) -> None:
        name = _config.exact_name(name)
        if name not in self.nodes:
            raise KeyError(name)
        self.nodes = tuple(n for n in self.nodes if n != name)

    def scores(self, key) -> list:
        text = rendezvous_text(key)
        return [murmur3_32(low_bytes(n) + b"-" + text) for n in self.nodes]

    def _ranked(self, key) -> list:
        """Node indices, highest score first, equal scores greater name first."""
        scores = self.scores(key)
        return sorted(range(len(self.nodes)), key=lambda i: (scores[i], self.nodes[i]),
                      reverse=True)

    def get_node(self, key):
        text = rendezvous_text(key)
        if not self.nodes:
            raise EmptyRingError()
        del text
        return self.nodes[self._ranked(key)[0]]

    def get_nodes(self, key, n):
        count = _config.check_replica_type(n)
        ranked = self._ranked(key)
        if not self.nodes:
            raise EmptyRingError()
        _config.check_replica_range(count, len(self.nodes))
        return [self.nodes[i] for i in ranked[:count]]

    def route(self, keys):
        if isinstance(keys, (str, bytes, bytearray, memoryview)):
            raise TypeError("a single key")
        items = keys.tolist() if isinstance(keys, np.ndarray) else list(keys)
        for k in items:
            rendezvous_text(k)
        if items and not self.nodes:
            raise EmptyRingError()
        return np.array([self._ranked(k)[0] for k in items], dtype=np.int32)
