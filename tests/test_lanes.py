"""The multi-buffer kernels (ext/rc_lanes.h): batches of keys hashed with MD5
or OAAT many at a time, one key a SIMD lane, agree key for key with hashlib,
a Python OAAT and single-key lookups, in every kernel this CPU runs (each
forced in turn). The batches mix lengths around the lanes' limits (55 and
119 bytes for MD5, one block and two; 128 for OAAT: longer keys take the
scalar path), put nulls, ints and
non-ASCII keys between lane keys, and come in sizes that leave groups part
full."""

import hashlib
import random

import numpy as np
import pytest

from ringcore import HashRing, _keys, _layout
from ringcore._lanes import lane_kernels

M32 = 0xFFFFFFFF
LANES = 64  # RC_LANES: keys a group


def md5_low32(data: bytes) -> int:
    return int.from_bytes(hashlib.md5(data).digest()[:4], "little")


def oaat(data: bytes) -> int:
    """Jenkins one-at-a-time, bytes as signed char (libmemcached on x86)."""
    h = 0
    for byte in data:
        h = (h + (byte - 256 if byte >= 128 else byte)) & M32
        h = (h + (h << 10)) & M32
        h ^= h >> 6
    h = (h + (h << 3)) & M32
    h ^= h >> 11
    return (h + (h << 15)) & M32


HASHES = {"ketama": md5_low32, "libmemcached": oaat, "libmemcached-weighted": md5_low32}
SERVERS = [f"10.0.0.{i}:11211" for i in range(1, 11)]


def key_bytes(key) -> bytes:
    if isinstance(key, str):
        return key.encode()
    if isinstance(key, int):
        return str(key % 2**64).encode()
    return bytes(key)


def kernels():
    available, _ = lane_kernels()
    assert _keys._lanes_state()[0] == _layout._lanes_state()[0]
    return available


@pytest.fixture(params=kernels())
def kernel(request):
    """Both extension modules (each has its own copy of the C) run one kernel."""
    lane_kernels(request.param)
    assert _keys._lanes_state()[1] == _layout._lanes_state()[1]
    try:
        yield request.param
    finally:
        lane_kernels("auto")


def text_keys(rng, lengths):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789:-_./ABCXYZ"
    return ["".join(rng.choice(alphabet) for _ in range(n)) for n in lengths]


def test_the_kernels_are_there():
    available, best = lane_kernels()
    assert "scalar" in available and best in available
    assert best == available[-1]
    with pytest.raises(ValueError, match="sse9"):
        lane_kernels("sse9")
    assert lane_kernels() == (available, best)


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_lists_of_every_length(kernel, dialect):
    rng = random.Random(5)
    ring = HashRing(SERVERS, dialect=dialect)
    hash_of = HASHES[dialect]
    lengths = [n for n in range(201)] * 2
    rng.shuffle(lengths)
    keys = text_keys(rng, lengths)
    want = [hash_of(k.encode()) for k in keys]
    assert ring.hash_keys(keys).tolist() == want
    # sorted by length: whole groups of equal lengths, then across each limit
    order = sorted(range(len(keys)), key=lambda i: lengths[i])
    assert ring.hash_keys([keys[i] for i in order]).tolist() == [want[i] for i in order]
    # every batch size up to three groups and more, from different starts
    for size in list(range(1, 3 * LANES + 2)) + [127, 255, 257]:
        start = (size * 37) % (len(keys) - size)
        assert ring.hash_keys(keys[start:start + size]).tolist() == want[start:start + size]
    # routes agree with single-key lookups
    owners = ring.route(keys)
    assert [ring.nodes[i] for i in owners[:300]] == [ring.get_node(k) for k in keys[:300]]


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_lists_mixing_lane_keys_with_others(kernel, dialect):
    rng = random.Random(11)
    ring = HashRing(SERVERS, dialect=dialect)
    hash_of = HASHES[dialect]
    keys = []
    for i in range(700):
        kind = rng.randrange(8)
        if kind == 0:
            keys.append(rng.randrange(-2**63, 2**64))
        elif kind == 1:
            keys.append(bytes(rng.randrange(256) for _ in range(rng.randrange(80))))
        elif kind == 2:
            keys.append("é" * rng.randrange(40) + "ü")  # not ASCII
        elif kind == 3:
            keys.append(bytearray(b"\x80\xff" * rng.randrange(40)))
        else:
            keys.append(text_keys(rng, [rng.randrange(70)])[0])
    want = [hash_of(key_bytes(k)) for k in keys]
    assert ring.hash_keys(keys).tolist() == want
    # None mid-group: null, the others still right
    with_nones = list(keys)
    for i in range(3, len(keys), 17):
        with_nones[i] = None
    routed = ring.route(with_nones, null=-7)
    plain = ring.route(keys)
    for i, key in enumerate(with_nones):
        assert routed[i] == (-7 if key is None else plain[i])
    assert [ring.nodes[i] for i in plain[:200]] == [ring.get_node(k) for k in keys[:200]]


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_arrays_of_every_length(kernel, dialect):
    rng = random.Random(3)
    ring = HashRing(SERVERS, dialect=dialect)
    hash_of = HASHES[dialect]
    lengths = [n for n in range(1, 201)] * 2
    rng.shuffle(lengths)
    keys = text_keys(rng, lengths) + ["", "héllo wörld", "€" * 30]
    want = [hash_of(k.encode()) for k in keys]
    text = np.array(keys)  # UCS4: encoded into scratch key by key
    assert ring.hash_keys(text).tolist() == want
    raw = np.array([k.encode() for k in keys], dtype=object).astype("S")
    assert ring.hash_keys(raw).tolist() == want
    for size in (1, 2, 31, 33, 65, 100):
        assert ring.hash_keys(text[5:5 + size]).tolist() == want[5:5 + size]
    assert ring.route(text).tolist() == ring.route(keys).tolist()


@pytest.mark.parametrize("dialect", sorted(HASHES))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint64", "int8", ">i8"])
def test_int_arrays(kernel, dialect, dtype):
    rng = np.random.default_rng(9)
    info = np.iinfo(np.dtype(dtype))
    values = rng.integers(info.min, info.max, size=333, dtype=np.dtype(dtype).newbyteorder("="),
                          endpoint=True).astype(dtype)
    values[:4] = [0, 1, info.max, info.min]
    want = [HASHES[dialect](str(int(v) % 2**64).encode()) for v in values]
    ring = HashRing(SERVERS, dialect=dialect)
    assert ring.hash_keys(values).tolist() == want
    assert ring.hash_keys([int(v) for v in values]).tolist() == want


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_arrow_keys_of_every_length(kernel, dialect):
    """Arrow keys fill an MD5 lane by reading 64 bytes of their buffer and
    masking what is past the key: keys of every length, the last ones where
    the buffer ends, agree with the hash of their own bytes."""
    pa = pytest.importorskip("pyarrow")
    rng = random.Random(17)
    lengths = list(range(201)) * 2
    rng.shuffle(lengths)
    lengths += list(range(70, -1, -1))  # short keys last: the read-ahead meets the end
    keys = text_keys(rng, lengths)
    want = [HASHES[dialect](k.encode()) for k in keys]
    ring = HashRing(SERVERS, dialect=dialect)
    for arrow_type in (pa.string(), pa.large_string(), pa.binary()):
        array = pa.array([k.encode() if arrow_type == pa.binary() else k for k in keys],
                         type=arrow_type)
        assert ring.hash_keys(array).tolist() == want
        assert ring.hash_keys(array.slice(5, 300)).tolist() == want[5:305]
        assert ring.hash_keys(array.slice(len(keys) - 40)).tolist() == want[-40:]


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_arrow_groups_of_short_keys(kernel, dialect):
    """Whole groups of Arrow keys under 32 bytes are hashed where they lie
    (with AVX2): groups that start mid-array, cross a chunk of the route loop,
    hold a null or a longer key, or end near the buffer's end all agree with
    the hash of each key's own bytes."""
    pa = pytest.importorskip("pyarrow")
    rng = random.Random(29)
    lengths = [rng.randrange(32) for _ in range(3000)]
    lengths[2000] = 40  # one key too long for the group it falls in
    lengths[-20:] = [0, 31] * 10  # the last groups read up to the buffer's end
    keys = text_keys(rng, lengths)
    want = [HASHES[dialect](k.encode()) for k in keys]
    ring = HashRing(SERVERS, dialect=dialect)
    plain = ring.route(keys)
    with_nulls = [None if 700 <= i < 900 and i % 17 == 0 else k for i, k in enumerate(keys)]
    for arrow_type in (pa.string(), pa.large_string(), pa.binary()):
        def arrow(values):
            return pa.array([v.encode() if v is not None and arrow_type == pa.binary() else v
                             for v in values], type=arrow_type)
        array = arrow(keys)
        assert ring.hash_keys(array).tolist() == want
        assert ring.route(array).tolist() == plain.tolist()
        for start in (1, 63, 64, 1000):
            assert ring.hash_keys(array.slice(start)).tolist() == want[start:]
        masked = arrow(with_nulls)
        routed = ring.route(masked, null=-1)
        assert routed.tolist() == [-1 if k is None else int(p) for k, p in zip(with_nulls, plain)]
        assert ring.route(masked.slice(650, 400), null=-1).tolist() == routed[650:1050].tolist()


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_arrow_groups_of_short_binary_keys_with_every_byte(kernel, dialect):
    """Groups read in place take bytes of 0x80 and above as libmemcached's
    signed char (OAAT) and as bytes (MD5), and empty keys, as one at a time."""
    pa = pytest.importorskip("pyarrow")
    rng = random.Random(31)
    keys = [bytes(rng.randrange(256) for _ in range(rng.randrange(32))) for _ in range(1000)]
    ring = HashRing(SERVERS, dialect=dialect)
    array = pa.array(keys, type=pa.binary())
    assert ring.hash_keys(array).tolist() == [HASHES[dialect](k) for k in keys]
    assert ring.route(array).tolist() == ring.route(keys).tolist()


@pytest.mark.parametrize("dialect", sorted(HASHES))
def test_arrow_with_nulls_mid_group(kernel, dialect):
    pa = pytest.importorskip("pyarrow")
    rng = random.Random(13)
    ring = HashRing(SERVERS, dialect=dialect)
    keys = text_keys(rng, [rng.randrange(120) for _ in range(500)])
    with_nulls = [None if i % 13 == 5 else k for i, k in enumerate(keys)]
    plain = ring.route(keys)
    for arrow_type in (pa.string(), pa.large_string(), pa.binary()):
        values = [None if k is None else (k.encode() if arrow_type == pa.binary() else k)
                  for k in with_nulls]
        array = pa.array(values, type=arrow_type)
        routed = ring.route(array, null=-1)
        for i, key in enumerate(with_nulls):
            assert routed[i] == (-1 if key is None else plain[i]), (arrow_type, i)
        with pytest.raises(ValueError, match="null"):
            ring.route(array)
        # a slice: the validity bitmap starts mid-byte
        assert ring.route(array.slice(7, 100), null=-1).tolist() == routed[7:107].tolist()
    if hasattr(pa, "string_view"):
        array = pa.array(with_nulls, type=pa.string_view())
        assert ring.route(array, null=-1).tolist() == ring.route(with_nulls, null=-1).tolist()


@pytest.mark.parametrize("dialect", sorted(HASHES))
@pytest.mark.parametrize("wide", [False, True])
def test_forged_arrow_offsets_fail_at_their_key(kernel, dialect, wide):
    """Arrow strings take a loop of their own into the lanes: an offset that
    goes back, below zero or past the data fails at its key, nulls skipped."""
    pa = pytest.importorskip("pyarrow")
    ring = HashRing(SERVERS, dialect=dialect)
    arrow_type, dtype = (pa.large_string(), np.int64) if wide else (pa.string(), np.int32)
    data = pa.py_buffer(b"abcdefgh" * 20)
    good = list(range(0, 161, 2))  # 80 keys: the lanes fill once, then a few more
    for index, value in ((70, good[70] - 5), (79, 1000), (3, -1)):
        offsets = np.array(good, dtype=dtype)
        offsets[index] = value
        forged = pa.Array.from_buffers(arrow_type, 80, [None, pa.py_buffer(offsets.tobytes()), data])
        bad = [i for i in range(80) if offsets[i] < 0 or offsets[i + 1] < offsets[i]
               or offsets[i + 1] > 160]
        with pytest.raises(ValueError, match=rf"keys\[{bad[0]}\]"):
            ring.route(forged)
        # with the first bad key null, the next bad one fails, or none does
        valid = np.ones(80, dtype=bool)
        valid[bad[0]] = False
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
        masked = pa.Array.from_buffers(arrow_type, 80, [bitmap, pa.py_buffer(offsets.tobytes()),
                                                        data])
        if len(bad) > 1:
            with pytest.raises(ValueError, match=rf"keys\[{bad[1]}\]"):
                ring.route(masked, null=-1)
        else:
            routed = ring.route(masked, null=-1)
            assert routed[bad[0]] == -1
            assert routed.tolist() == ring.route(masked.to_pylist(), null=-1).tolist()
    sound = pa.Array.from_buffers(arrow_type, 80, [None, pa.py_buffer(
        np.array(good, dtype=dtype).tobytes()), data])
    assert ring.route(sound).tolist() == ring.route(sound.to_pylist()).tolist()


def test_bad_keys_mid_group_still_fail_with_their_index(kernel):
    ring = HashRing(SERVERS, dialect="ketama")
    keys = [f"key-{i}" for i in range(50)]
    with pytest.raises(TypeError, match=r"\[37\]"):
        ring.route(keys[:37] + [None] + keys[37:])
    bad = np.array(["a" * 10] * 40)
    bad[20] = "\udc80" * 3  # a lone surrogate has no UTF-8
    with pytest.raises(ValueError):
        ring.route(bad)


@pytest.mark.parametrize("dialect", ["ketama", "libmemcached-weighted"])
def test_ketama_points_of_names_around_the_lane_limit(kernel, dialect):
    """Points 4i .. 4i+3: the words of MD5("name-i"); names up to 44 bytes
    take the lanes (with up to 10 digits "name-i" fits one block)."""
    hasher = HashRing(SERVERS, dialect=dialect).layout.hasher
    for name_len in list(range(0, 50)) + [54, 55, 56, 80]:
        name = ("n%d" % name_len * 40)[:name_len].encode()
        for count in (4, 8, 4 * 63, 4 * 64, 4 * 65, 4 * 200):
            got = hasher.node_points(name, count).tolist()
            want = []
            for i in range(count // 4):
                digest = hashlib.md5(name + b"-" + str(i).encode()).digest()
                want += [int.from_bytes(digest[4 * w:4 * w + 4], "little") for w in range(4)]
            assert got == want, (name, count)
