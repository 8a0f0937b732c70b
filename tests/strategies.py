"""Hypothesis strategies shared by the ringcore test suite.

Everything a test may want to throw at a ring: node names (non-ASCII, emoji,
names containing '#'), weights and vnodes that give a sane number of points,
keys of every accepted type, and numpy key arrays of every integer dtype, in
both byte orders, contiguous or strided, 1-D or 2-D.
"""

from __future__ import annotations

import array
import math
import string
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# -- node names --------------------------------------------------------------------

# Every code point UTF-8 can encode (no lone surrogates).
UTF8_CHARS = st.characters(codec="utf-8")

SPECIAL_NAMES = [
    "a",
    "A",
    "node-1",
    "#",
    "##",
    "a#",
    "a#0",
    "a#1",
    "a#1#0",
    "0",
    "1",
    " ",
    "\x00",
    "é",
    "e\u0301",  # same glyph as "é", different code points and bytes
    "名前",
    "узел",
    "🙂",
    "🙂#🙃",
    "\U0010ffff",
    "x" * 200,
]

node_names = st.one_of(
    st.sampled_from(SPECIAL_NAMES),
    st.text(alphabet=UTF8_CHARS, min_size=1, max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=12),
    st.builds(
        lambda a, b: f"{a}#{b}",
        st.text(alphabet=UTF8_CHARS, max_size=6),
        st.one_of(st.integers(0, 10**6).map(str), st.text(alphabet=UTF8_CHARS, max_size=4)),
    ),
)


def vnodes_values(max_vnodes: int = 1000) -> st.SearchStrategy[int]:
    """vnodes from 1 to max_vnodes, spread over small, medium and large."""
    bands = [(1, 8), (9, 200), (201, 1000)]
    bands = [(lo, min(hi, max_vnodes)) for lo, hi in bands if lo <= max_vnodes]
    return st.sampled_from(bands).flatmap(lambda band: st.integers(*band))


def weight_values(vnodes: int, max_weight: float) -> st.SearchStrategy[float]:
    """Weights that give a node of `vnodes` between 1 and about
    vnodes * max_weight points."""
    lo = 0.6 / vnodes  # floor(vnodes * w + 0.5) >= 1 with margin for rounding
    hi = max(lo, max_weight)
    options = [st.floats(lo, hi, allow_nan=False, allow_infinity=False)]
    options.append(st.sampled_from([w for w in (0.5, 1.0, 1.5, 2.0, 0.25) if lo <= w <= hi] or [hi]))
    if hi >= 1:
        options.append(st.integers(1, int(hi)))  # an int weight is a valid real number
    return st.one_of(options)


@dataclass(frozen=True)
class RingConfig:
    """What a ring is built from: ``nodes`` (a list of names or a mapping
    name -> weight, exactly as passed to HashRing) and ``vnodes``."""

    nodes: object
    vnodes: int

    @property
    def weights(self) -> dict[str, float]:
        if isinstance(self.nodes, dict):
            return {name: float(w) for name, w in self.nodes.items()}
        return {name: 1.0 for name in self.nodes}

    @property
    def names(self) -> list[str]:
        return list(self.weights)

    def build(self, cls):
        nodes = dict(self.nodes) if isinstance(self.nodes, dict) else list(self.nodes)
        return cls(nodes, vnodes=self.vnodes)

    def point_count(self) -> int:
        return sum(math.floor(self.vnodes * w + 0.5) for w in self.weights.values())


@st.composite
def ring_configs(
    draw,
    min_nodes: int = 1,
    max_nodes: int = 8,
    max_vnodes: int = 1000,
    max_points: int = 6000,
    names=node_names,
) -> RingConfig:
    """A random ring: names, weights and vnodes, with at most ~max_points points."""
    node_list = draw(st.lists(names, min_size=min_nodes, max_size=max_nodes, unique=True))
    vnodes = draw(vnodes_values(max_vnodes))
    per_node = max_points / max(1, len(node_list))
    max_weight = min(8.0, per_node / vnodes)
    use_weights = draw(st.booleans())
    if not use_weights and vnodes <= per_node:
        return RingConfig(node_list, vnodes)
    weights = {name: draw(weight_values(vnodes, max_weight)) for name in node_list}
    return RingConfig(weights, vnodes)


# -- keys --------------------------------------------------------------------------

NP_INT_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
NP_INT_DTYPES = [np.dtype(t) for t in NP_INT_TYPES]

INT_EDGES = [
    0,
    1,
    -1,
    2**7 - 1,
    -(2**7),
    2**8,
    2**31 - 1,
    -(2**31),
    2**32,
    2**63 - 1,
    -(2**63),
    2**63,
    2**64 - 1,
]

str_keys = st.one_of(
    st.text(alphabet=UTF8_CHARS, max_size=40),
    st.text(alphabet=string.printable, max_size=40),  # the ASCII fast path
    st.text(alphabet=UTF8_CHARS, min_size=60, max_size=300),  # the longer XXH3 classes
)

bytes_keys = st.one_of(st.binary(max_size=40), st.binary(min_size=100, max_size=300))
bytearray_keys = bytes_keys.map(bytearray)
memoryview_keys = st.one_of(
    bytes_keys.map(memoryview),
    bytes_keys.map(lambda b: memoryview(b)[::2]),  # non-contiguous
    bytes_keys.map(lambda b: memoryview(bytearray(b))),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=20).map(
        lambda v: memoryview(array.array("i", v))  # format 'i', itemsize 4
    ),
)
int_keys = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.integers(-1000, 1000),
    st.sampled_from(INT_EDGES),
)


def _np_scalar(t):
    info = np.iinfo(t)
    return st.one_of(
        st.integers(int(info.min), int(info.max)), st.sampled_from([int(info.min), int(info.max), 0])
    ).map(t)


np_int_scalar_keys = st.one_of([_np_scalar(t) for t in NP_INT_TYPES])

keys = st.one_of(
    str_keys, bytes_keys, bytearray_keys, memoryview_keys, int_keys, np_int_scalar_keys
)
key_lists = st.one_of(st.lists(keys, max_size=10), st.lists(keys, min_size=20, max_size=80))


# -- key arrays --------------------------------------------------------------------


@st.composite
def int_key_arrays(draw, max_side: int = 24) -> np.ndarray:
    """A numpy integer array of any integer dtype and byte order, 1-D or 2-D,
    contiguous, strided, reversed or transposed."""
    dtype = draw(st.sampled_from(NP_INT_DTYPES))
    info = np.iinfo(dtype)
    ndim = draw(st.integers(1, 2))
    steps = [draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in range(ndim)]
    sides = [draw(st.integers(0, max_side)) for _ in range(ndim)]
    base_shape = tuple(max(0, s * abs(step)) for s, step in zip(sides, steps))
    elements = st.one_of(
        st.integers(int(info.min), int(info.max)),
        st.sampled_from([int(info.min), int(info.max), 0, 1]),
    )
    base = draw(hnp.arrays(dtype, base_shape, elements=elements))
    byteorder = draw(st.sampled_from(["<", ">", "="]))
    base = base.astype(dtype.newbyteorder(byteorder))
    arr = base[tuple(slice(None, None, step) for step in steps)]
    if ndim == 2 and draw(st.booleans()):
        arr = arr.T
    if draw(st.booleans()) and ndim == 2:
        arr = np.asfortranarray(arr)
    return arr


def object_array(items: list, shape=None) -> np.ndarray:
    """An object array holding exactly these objects (no conversion)."""
    arr = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        arr[i] = item
    return arr if shape is None else arr.reshape(shape)


@st.composite
def string_key_arrays(draw) -> np.ndarray:
    """S, U, StringDType or object arrays of keys, 1-D or 2-D."""
    kind = draw(st.sampled_from(["S", "U", "T", "O"]))
    if kind == "S":
        items = draw(st.lists(bytes_keys, max_size=30))
        arr = np.array(items, dtype="S") if items else np.empty(0, dtype="S1")
    elif kind == "U":
        items = draw(st.lists(str_keys, max_size=30))
        arr = np.array(items, dtype="U") if items else np.empty(0, dtype="U1")
    elif kind == "T" and hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType"):
        items = draw(st.lists(str_keys, max_size=30))
        arr = np.array(items, dtype=np.dtypes.StringDType())
    else:
        items = draw(key_lists)
        arr = object_array(items)
    if arr.size and arr.size % 2 == 0 and draw(st.booleans()):
        arr = arr.reshape(2, -1)
    if arr.size > 1 and draw(st.booleans()):
        arr = arr[..., ::-1]
    return arr


def hash_values(positions=None) -> st.SearchStrategy[int]:
    """uint64 hash values, biased to the ring's points and their neighbours
    when `positions` (a sequence of ints) is given."""
    edges = st.sampled_from([0, 1, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1])
    base = st.one_of(st.integers(0, 2**64 - 1), edges)
    if positions is None or len(positions) == 0:
        return base
    near = st.builds(
        lambda p, d: (int(p) + d) % 2**64,
        st.sampled_from(list(positions)),
        st.sampled_from([-1, 0, 1]),
    )
    return st.one_of(base, near)


# -- helpers shared by the test modules --------------------------------------------


def snapshot(ring) -> tuple:
    """Everything observable about a ring's configuration and points."""
    return (
        ring.nodes,
        tuple(ring.weights.items()),
        ring.vnodes,
        len(ring),
        np.array(ring.positions, copy=True),
        np.array(ring.owners, copy=True),
    )


def assert_snapshot_equal(got: tuple, expected: tuple) -> None:
    assert got[:4] == expected[:4]
    for a, b in zip(got[4:], expected[4:]):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)


def owner_names(ring) -> list[str]:
    """The owner of each point in ring order, by name."""
    names = ring.nodes
    return [names[i] for i in ring.owners.tolist()]


def assert_rings_agree(core, ref) -> None:
    """The core ring and the reference ring are the same ring."""
    assert core.nodes == ref.nodes
    assert core.weights == ref.weights
    assert list(core.weights) == list(ref.weights)
    assert core.vnodes == ref.vnodes
    assert len(core) == len(ref)
    assert core.positions.dtype == ref.positions.dtype == np.uint64
    assert core.owners.dtype == ref.owners.dtype == np.int32
    assert np.array_equal(core.positions, ref.positions)
    assert np.array_equal(core.owners, ref.owners)
    own_core, own_ref = core.ownership(), ref.ownership()
    assert list(own_core) == list(own_ref)
    for name in own_ref:
        assert type(own_core[name]) is float
        assert own_core[name] == own_ref[name], name  # exactly equal


def place_on_two_positions(dialect, blob, offsets, counts, owners, weights=()):
    """A stand-in for ringcore.layout._place that puts every node's points on
    two positions (0 and 1000), so that every point ties with others: the
    C sort then shows which node the dialect's placing order puts first."""
    from ringcore import _layout

    positions = np.concatenate([np.arange(int(c), dtype=np.uint64) % 2 * 1000 for c in counts])
    owner_of = np.concatenate([np.full(int(c), o, dtype=np.int32)
                               for c, o in zip(counts, owners)])
    return _layout.sort_placed(positions, owner_of, dialect.hash_bits)
