"""The compiled side of a ring layout: its points and table in memory
that no one else can write, the single-key lookups, and the batch kernels.

ringcore.layout builds on this (the public RingLayout); ringcore.ring keeps
the current layout of a mutable HashRing in RingBase.
"""

from cpython.buffer cimport PyBUF_FORMAT, PyBUF_ND, PyBUF_WRITABLE
from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from types import MappingProxyType

import numpy as np

from ringcore._cdefs cimport *
from ringcore._keys cimport (
    FOR_ROUTING, Hasher, KeyBatch, batch_scratch, check_list_size, check_range, default_hasher,
    hash_object, hash_range,
)
from ringcore import _config, _threads
from ringcore._config import check_replica_range, check_replica_type, check_zone_range
from ringcore.errors import EmptyRingError

# One record per point (ext/rc_layout.h): position, owner, a spare word.
POINT_DTYPE = np.dtype([("pos", "=u8"), ("owner", "=i4"), ("spare", "=i4")])
assert POINT_DTYPE.itemsize == sizeof(rc_point)
# One line of a big ring's line table (ext/rc_layout.h): keys with their top
# bit flipped, owners (then the owner after the line), the first point's index.
LINE_DTYPE = np.dtype([("keys", "=i2", (RC_LINE_SLOTS + 1,)),
                       ("owners", "=i4", (RC_LINE_SLOTS + 1,)), ("first", "=u4")])
assert LINE_DTYPE.itemsize == sizeof(rc_line)
# A compact line (rings of at most 65,535 nodes): owners in 16 bits.
CLINE_DTYPE = np.dtype([("keys", "=i2", (RC_CLINE_SLOTS + 1,)),
                        ("owners", "=u2", (RC_CLINE_SLOTS + 1,)), ("first", "=u4")])
assert CLINE_DTYPE.itemsize == sizeof(rc_cline)


cdef char _no_memory[1]
cdef char *_byte_format = "B"


cdef class LayoutMemory:
    """Memory a layout fills once and then lends read-only: numpy views of it
    cannot be made writeable (its buffer refuses writers), and nothing in
    Python can reach a writable pointer to it."""

    cdef char *data
    cdef Py_ssize_t size
    cdef size_t capacity     # bytes allocated (size rounded up)
    cdef bint claimed        # a layout has taken it: it never changes again
    cdef bint trusted        # points this module sorted or merged from checked ones
    cdef Py_ssize_t owners_below  # when trusted: every owner is below this
    cdef int trusted_bits    # when trusted: every position is below 2^trusted_bits
    cdef LayoutMemory table  # points from a merge or removal: their table, derived
    cdef LayoutMemory spare_table  # memory of the size of their table, not filled yet

    def __dealloc__(self):
        if self.data != NULL:
            _release(self.data, self.capacity)

    def __len__(self) -> int:
        return self.size

    @property
    def derived_table(self) -> bool:
        """Whether these points carry a table derived from an older layout's."""
        return self.table is not None

    def __getbuffer__(self, Py_buffer *view, int flags):
        if flags & PyBUF_WRITABLE:
            raise BufferError("ring layout memory is read-only")
        view.buf = self.data if self.data != NULL else _no_memory
        view.obj = self
        view.len = self.size
        view.readonly = 1
        view.itemsize = 1
        view.format = _byte_format if flags & PyBUF_FORMAT else NULL
        view.ndim = 1
        view.shape = &self.size if flags & PyBUF_ND else NULL
        view.strides = NULL
        view.suboffsets = NULL
        view.internal = NULL


cdef LayoutMemory _NO_MEMORY = LayoutMemory.__new__(LayoutMemory)  # read-only, empty


# Memory of big layouts is kept for reuse when a layout dies while others of
# at least its size live: updating a big ring (add, remove, unpickle beside
# it) then writes into memory that is already mapped instead of waiting for
# the kernel to zero hundreds of megabytes of new pages. The blocks kept never
# exceed the bytes of the big layouts alive, and go when those do. The GIL
# guards this state: it is only touched from Python-level code.
cdef enum:
    _REUSE_MIN = 4 << 20     # smaller blocks come and go through malloc
    _REUSE_SLOTS = 4
    _REUSE_ROUND = 2 << 20   # big blocks are whole huge pages: neighbours in size share
cdef void *_kept_data[_REUSE_SLOTS]
cdef size_t _kept_size[_REUSE_SLOTS]
cdef size_t _kept_bytes = 0
cdef size_t _live_bytes = 0   # bytes of big blocks in use


cdef size_t _rounded(size_t size) noexcept nogil:
    if size < _REUSE_MIN:
        return size
    return (size + _REUSE_ROUND - 1) // _REUSE_ROUND * _REUSE_ROUND


cdef void _trim_kept() noexcept:
    """Free kept blocks, largest first, until they are no more than what lives."""
    global _kept_bytes
    cdef int slot, largest
    while _kept_bytes > _live_bytes:
        largest = -1
        for slot in range(_REUSE_SLOTS):
            if _kept_data[slot] != NULL and (largest < 0 or _kept_size[slot] > _kept_size[largest]):
                largest = slot
        rc_free_big(_kept_data[largest])
        _kept_bytes -= _kept_size[largest]
        _kept_data[largest] = NULL


cdef void *_take(size_t capacity) noexcept:
    """A block of capacity bytes: a kept one of that size, or a new one."""
    global _kept_bytes, _live_bytes
    cdef int slot
    cdef void *data = NULL
    if capacity >= _REUSE_MIN:
        for slot in range(_REUSE_SLOTS):
            if _kept_data[slot] != NULL and _kept_size[slot] == capacity:
                data = _kept_data[slot]
                _kept_data[slot] = NULL
                _kept_bytes -= capacity
                break
        if data == NULL:
            data = rc_alloc_big(capacity)
        if data != NULL:
            _live_bytes += capacity
        return data
    return rc_alloc_big(capacity)


cdef void _release(void *data, size_t capacity) noexcept:
    global _kept_bytes, _live_bytes
    cdef int slot
    if capacity < _REUSE_MIN:
        rc_free_big(data)
        return
    _live_bytes -= capacity
    if capacity <= _live_bytes:
        for slot in range(_REUSE_SLOTS):
            if _kept_data[slot] == NULL:
                _kept_data[slot] = data
                _kept_size[slot] = capacity
                _kept_bytes += capacity
                data = NULL
                break
    if data != NULL:
        rc_free_big(data)
    _trim_kept()


def kept_memory() -> tuple:
    """(bytes kept for reuse, bytes of big blocks in use): for tests."""
    return _kept_bytes, _live_bytes


cdef LayoutMemory _allocate(size_t size):
    """New memory of `size` bytes, filled by the caller before it is lent."""
    cdef LayoutMemory memory = LayoutMemory.__new__(LayoutMemory)
    cdef size_t capacity = _rounded(size)
    memory.data = <char *>_take(capacity)
    if memory.data == NULL:
        raise MemoryError()
    memory.size = <Py_ssize_t>size
    memory.capacity = capacity
    return memory


cdef inline rc_point *_records(LayoutMemory points):
    return <rc_point *>points.data


cdef LayoutMemory _new_points(Py_ssize_t npoints):
    """Memory for npoints records and the sentinel."""
    if not 0 <= npoints <= RC_MAX_POINTS:
        raise ValueError(f"a ring holds at most {RC_MAX_POINTS} points")
    cdef LayoutMemory memory = _allocate((<size_t>npoints + 1) * sizeof(rc_point))
    memset(_records(memory) + npoints, 0, sizeof(rc_point))  # the sentinel, until filled
    return memory




cdef LayoutMemory _trust(LayoutMemory points, Py_ssize_t owners_below, int hash_bits):
    """Mark points as sorted, their owners below owners_below and their
    positions below 2^hash_bits: a layout made of them skips its check."""
    points.trusted = True
    points.owners_below = owners_below
    points.trusted_bits = hash_bits
    return points


cdef class LayoutBase:
    """One immutable built ring: node names and weights, the points in ring
    order and the table (guide or line table), in memory filled once and lent read-only (no
    one can make it writeable and break what the kernels rely on)."""

    cdef readonly tuple names
    cdef readonly tuple node_weights  # parallel to names
    cdef readonly tuple node_zones    # parallel to names: a str, or None for no zone
    cdef object _zone_classes         # int32 zone class of each node, made when first asked
    cdef Py_ssize_t _zone_count
    cdef object _index               # name -> position in names, made when first asked
    cdef readonly object vnodes
    cdef readonly object dialect     # the ringcore.dialects.Dialect
    cdef readonly Hasher hasher
    cdef readonly object positions   # read-only uint64 view of the points in ring order
    cdef readonly object owners      # read-only int32 view: node index of each point
    cdef readonly object table       # read-only table: guide table, or lines as words
    cdef readonly object lines       # big rings: the line table (LINE_DTYPE), else empty
    cdef readonly bint table_derived # the table came from an older layout's, not rebuilt
    cdef LayoutMemory _points
    cdef LayoutMemory _table
    cdef LayoutMemory _owner_memory
    cdef rc_layout layout
    cdef bint _filled
    cdef readonly object version     # updates since the ring was built (HashRing's count)
    cdef readonly dict derived       # arrays made from the layout when first asked (replica rows)

    def __cinit__(self, *args, **kwargs):
        # Until _fill: an empty ring with the default hashing, so that a
        # layout made without its constructor (LayoutBase.__new__, a crafted
        # pickle) is an empty ring, not a read of uninitialised state.
        self.names = ()
        self.node_weights = ()
        self.node_zones = ()
        self._zone_classes = None
        self._index = None
        self.hasher = default_hasher()
        self.positions = np.frombuffer(_NO_MEMORY, dtype=np.uint64)
        self.owners = np.frombuffer(_NO_MEMORY, dtype=np.int32)
        self.table = np.frombuffer(_NO_MEMORY, dtype=np.uint32)
        self.lines = np.frombuffer(_NO_MEMORY, dtype=LINE_DTYPE)
        self.version = 0
        self.derived = {}

    cdef int _fill(self, tuple names, tuple weights, object vnodes, object dialect, Hasher hasher,
                   LayoutMemory points, Py_ssize_t npoints, bint names_checked) except -1:
        """Take points[0 .. npoints) (ring order; room for the sentinel), check
        them, build the table. Only once: a layout never changes."""
        if self._filled:
            raise TypeError("a ring layout is immutable")
        if len(weights) != len(names):
            raise ValueError("ring layout: names and weights differ in length")
        if len(names) > RC_MAX_POINTS or not 0 <= npoints <= RC_MAX_POINTS:
            raise ValueError("ring layout: too many points or nodes")
        if <size_t>points.size != (<size_t>npoints + 1) * sizeof(rc_point):
            raise ValueError("ring layout: the points buffer has the wrong size")
        if points.claimed:
            raise ValueError("ring layout: these points belong to another layout")
        if not names_checked:  # the index, made when first asked for, must be possible
            for name in names:
                hash(name)
        cdef int hash_bits = hasher.spec.hash_bits
        cdef bint trusted = (points.trusted and len(names) >= points.owners_below
                             and points.trusted_bits == hash_bits)
        cdef size_t table_len = rc_layout_table_len(<size_t>npoints, hash_bits, len(names))
        # a merge or removal derived the table from the old one: taken as is
        cdef LayoutMemory table = points.table
        cdef bint table_ready = (trusted and table is not None and not table.claimed
                                 and <size_t>table.size == table_len * sizeof(uint32_t))
        points.table = None
        self.table_derived = table_ready
        if not table_ready:
            # memory a build sorted in, when it has the table's size, else new memory
            table = points.spare_table
            if (table is None or table.claimed
                    or <size_t>table.size != table_len * sizeof(uint32_t)):
                table = _allocate(table_len * sizeof(uint32_t))
        points.spare_table = None
        table.claimed = True  # lent out with this layout: never another's points
        cdef rc_point *records = _records(points)
        cdef uint32_t *table_ptr = <uint32_t *>table.data
        cdef int32_t nnodes = <int32_t>len(names)
        cdef rc_status status
        points.claimed = True
        # a ring that is not big keeps its points as two arrays, each in memory of its
        # own (placed back to back, the owner array ran 9% slower: measured)
        cdef LayoutMemory arrays = None
        cdef uint64_t *positions_out = NULL
        cdef int32_t *owners_out = NULL
        cdef bint big = rc_layout_is_big(<size_t>npoints)
        cdef LayoutMemory owner_memory = None
        if not big:
            arrays = _allocate((<size_t>npoints + 1) * sizeof(uint64_t))
            owner_memory = _allocate((<size_t>npoints + 1) * sizeof(int32_t))
            arrays.claimed = True
            owner_memory.claimed = True
            positions_out = <uint64_t *>arrays.data
            owners_out = <int32_t *>owner_memory.data
        if big and trusted and not table_ready:
            table_ready = _table_on_threads(records, <size_t>npoints, hash_bits, len(names),
                                            table_ptr, table_len)
        with nogil:
            status = rc_layout_init(&self.layout, records, <size_t>npoints, hash_bits, nnodes,
                                    table_ptr, table_len, trusted, table_ready, positions_out,
                                    owners_out)
        if status != RC_OK:
            raise ValueError("ring layout: positions are not sorted, are too large for the "
                             "ring, or owners are out of range")
        self.names = names
        self.node_weights = weights
        self.vnodes = vnodes
        self.dialect = dialect
        self.hasher = hasher
        self._table = table
        self.table = np.frombuffer(table, dtype=np.uint32)
        self.lines = (np.frombuffer(table, dtype=CLINE_DTYPE if self.layout.compact else LINE_DTYPE)
                      if big else np.frombuffer(_NO_MEMORY, dtype=LINE_DTYPE))
        if big:
            self._points = points
            records_view = np.frombuffer(points, dtype=POINT_DTYPE)[:npoints]
            self.positions = records_view["pos"]
            self.owners = records_view["owner"]
        else:
            self._points = arrays
            self._owner_memory = owner_memory
            self.positions = np.frombuffer(arrays, dtype=np.uint64, count=npoints)
            self.owners = np.frombuffer(owner_memory, dtype=np.int32, count=npoints)
        self._filled = True
        return 0

    def __len__(self) -> int:
        return len(self.names)

    @property
    def index(self):
        """Read-only mapping: node name -> its position in names."""
        if self._index is None:
            self._index = MappingProxyType(dict(zip(self.names, range(len(self.names)))))
        return self._index

    def position_of(self, str name) -> int:
        """The position of name in names, or -1: without making the index."""
        if self._index is not None:
            return self._index.get(name, -1)
        try:
            return self.names.index(name)
        except ValueError:
            return -1

    @property
    def big(self) -> bool:
        """Whether this ring has the big layout (records and a line table)."""
        return bool(self.layout.big)

    @property
    def compact(self) -> bool:
        """Whether its line table has compact lines (16-bit owners)."""
        return bool(self.layout.compact)

    @property
    def memory_bytes(self) -> int:
        """Bytes the points and the table take."""
        return sum(memory.size for memory in (self._points, self._owner_memory, self._table)
                   if memory is not None)

    @property
    def nodes(self) -> tuple:
        """Node names in insertion order; route() returns indices into this."""
        return self.names

    cdef inline int _check_not_empty(self) except -1:
        if self.layout.npoints == 0:
            raise EmptyRingError()
        return 0

    cdef str _get_node(self, key):
        cdef uint64_t h
        hash_object(&self.hasher.spec, key, &h)
        self._check_not_empty()
        return <str>self.names[rc_lookup_owner(&self.layout, h)]

    def zone_classes(self):
        """(classes, count): the int32 zone class of each node for walks that
        take distinct zones (a node without a zone is a zone of its own),
        and how many there are."""
        if self._zone_classes is None:
            ids = {}
            classes = np.empty(len(self.names), dtype=np.int32)
            for i, zone in enumerate(self.node_zones):
                classes[i] = ids.setdefault(("node", i) if zone is None else ("zone", zone),
                                            len(ids))
            classes.flags.writeable = False
            self._zone_count = len(ids)
            self._zone_classes = classes
        return self._zone_classes, self._zone_count

    cdef list _get_nodes(self, key, object count, bint distinct_zones):
        cdef uint64_t h
        hash_object(&self.hasher.spec, key, &h)
        if type(count) is not int:
            count = check_replica_type(count)
        self._check_not_empty()
        cdef size_t nnodes = len(self.names)
        if count < 1 or count > nnodes:
            check_replica_range(count, nnodes)
        cdef size_t nclasses = nnodes
        cdef const int32_t[::1] classes
        cdef const int32_t *class_of = NULL
        if distinct_zones:
            zone_of, zone_count = self.zone_classes()
            classes = zone_of
            class_of = &classes[0]
            nclasses = <size_t>zone_count
            if <size_t>count > nclasses:
                check_zone_range(count, nclasses)
        cdef size_t n = <size_t>count
        cdef uint8_t stack_seen[512]
        cdef int32_t stack_taken[512]
        cdef uint8_t *seen = stack_seen
        cdef int32_t *taken = stack_taken
        if nnodes > 512:
            seen = <uint8_t *>malloc(nnodes)
            taken = <int32_t *>malloc(nnodes * sizeof(int32_t))
        cdef int64_t found = -1
        cdef size_t i
        try:
            if seen == NULL or taken == NULL:
                raise MemoryError()
            memset(seen, 0, nnodes)
            found = rc_walk_owners(&self.layout, rc_lookup_index(&self.layout, h), n, class_of,
                                   seen, nclasses, nnodes, taken)
            if found != <int64_t>n:
                raise ValueError(f"only {found} nodes own points on this ring; "
                                 f"{n} distinct owners were asked for")
            result = PyList_New(n)
            for i in range(n):
                name = self.names[taken[i]]
                Py_INCREF(name)
                PyList_SET_ITEM(result, i, name)
            return result
        finally:
            if seen != stack_seen:
                free(seen)
                free(taken)

    def get_node(self, key) -> str:
        """The node that owns key (str, bytes-like or int)."""
        return self._get_node(key)

    def get_nodes(self, key, n, *, distinct_zones=False) -> list:
        """The n distinct nodes clockwise from key: the owner first, then
        replicas; with distinct_zones, nodes of zones not taken yet."""
        if type(distinct_zones) is not bool:
            raise TypeError(f"distinct_zones must be a bool, not {type(distinct_zones).__name__}")
        return self._get_nodes(key, n, distinct_zones)

    def route_hashes_into(self, const uint64_t[::1] hashes not None, int32_t[::1] out not None,
                          bint indices=False) -> None:
        """out[i] = owner index of hashes[i] (with indices: the index of the
        point that owns it, in ring order)."""
        if out.shape[0] != hashes.shape[0]:
            raise ValueError("out must have one slot per hash")
        if hashes.shape[0] == 0:
            return
        self._check_not_empty()
        with nogil:
            if indices:
                rc_lookup_indices(&self.layout, &hashes[0], <size_t>hashes.shape[0], &out[0])
            else:
                rc_lookup_owners(&self.layout, &hashes[0], <size_t>hashes.shape[0], &out[0])

    def route_list_into(self, list keys not None, int32_t[::1] out not None, bint allow_nulls=False,
                        int32_t null_owner=-1, bint indices=False) -> None:
        """out[i] = owner index of keys[i] for a list of keys (with indices:
        its point's index); with allow_nulls, a null or None key gets null_owner."""
        cdef Py_ssize_t n = out.shape[0], start, stop, i
        cdef uint64_t hashes[RC_CHUNK]
        cdef uint8_t nulls[RC_CHUNK]
        cdef uint8_t *is_null = nulls if allow_nulls else NULL
        check_list_size(keys, n)
        if n == 0:
            return
        cdef const rc_dialect *spec = &self.hasher.spec
        if self.layout.npoints == 0:
            for start in range(0, n, RC_CHUNK):  # bad keys fail before the empty ring
                hash_range(spec, keys, start, min(start + RC_CHUNK, n), hashes, is_null,
                           FOR_ROUTING)
            self._check_not_empty()
        for start in range(0, n, RC_CHUNK):
            stop = min(start + RC_CHUNK, n)
            hash_range(spec, keys, start, stop, hashes, is_null, FOR_ROUTING)
            if indices:
                rc_lookup_indices(&self.layout, hashes, <size_t>(stop - start), &out[start])
            else:
                rc_lookup_owners(&self.layout, hashes, <size_t>(stop - start), &out[start])
            if allow_nulls:
                for i in range(stop - start):
                    if nulls[i]:
                        out[start + i] = null_owner
        check_list_size(keys, n)

    def route_batch_into(self, KeyBatch batch not None, int32_t[::1] out not None, Py_ssize_t start,
                         Py_ssize_t stop, bint allow_nulls=False, int32_t null_owner=-1,
                         bint indices=False) -> None:
        """out = owner indices of keys [start, stop) of the batch (with
        indices: their points' indices), without the GIL."""
        check_range(batch, out.shape[0], start, stop)
        if start == stop:
            return
        if self.layout.npoints == 0:
            self._check_batch(batch, start, stop, allow_nulls)  # bad keys fail first
            self._check_not_empty()
        cdef size_t bad = 0
        cdef rc_status status
        cdef uint8_t *scratch = batch_scratch(batch)
        with nogil:
            status = rc_route_keys(&self.layout, &self.hasher.spec, &batch.keys, <size_t>start,
                                   <size_t>stop, &out[0], allow_nulls, null_owner, &bad, scratch,
                                   RC_WANT_INDICES if indices else RC_WANT_OWNERS)
        free(scratch)
        if status != RC_OK:
            batch.raise_for(status, bad, FOR_ROUTING)

    def replica_rows_of(self, Py_ssize_t n, const int32_t[::1] class_of not None):
        """An (npoints, n) read-only int32 array: row i holds the first n
        owners of distinct classes (class_of[node]) walking clockwise from
        point i; ValueError when fewer than n classes own points."""
        self._check_not_empty()
        cdef size_t nnodes = <size_t>len(self.names)
        if <size_t>class_of.shape[0] != nnodes:
            raise ValueError("replica_rows_of: class_of must have one class per node")
        if n < 1 or <size_t>n > nnodes:
            check_replica_range(n, nnodes)
        cdef size_t m = self.layout.npoints
        if <size_t>n > (<size_t>PY_SSIZE_T_MAX) // sizeof(int32_t) // m:
            raise MemoryError()
        # filled in a bytes object before anyone sees it: the array over it
        # is read-only for good (its flag cannot be set back), so the rows a
        # layout keeps cannot be changed under later calls
        data = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>(m * <size_t>n * sizeof(int32_t)))
        cdef int32_t *filled = <int32_t *>PyBytes_AS_STRING(data)
        cdef rc_status status
        with nogil:
            status = rc_replica_rows(&self.layout, &class_of[0], nnodes, <size_t>n, filled,
                                     m * <size_t>n)
        if status != RC_OK:
            raise ValueError(f"fewer than {n} distinct classes own points on this ring")
        return np.frombuffer(data, dtype=np.int32).reshape(m, n)

    def assign_bounded_into(self, const int32_t[::1] start not None,
                            const int64_t[::1] capacity not None, int32_t null_owner,
                            int32_t[::1] out not None):
        """Bounded loads (SPEC.md 10): out[k] = the owner of the first point
        from point start[k] on whose node is below its capacity, keys taken
        in order; start[k] < 0 (a null) gets null_owner. Returns the loads."""
        cdef size_t nnodes = <size_t>len(self.names)
        if <size_t>capacity.shape[0] != nnodes:
            raise ValueError("assign_bounded_into: capacity must have one value per node")
        if out.shape[0] != start.shape[0]:
            raise ValueError("assign_bounded_into: out must have one slot per key")
        load = np.zeros(nnodes, dtype=np.int64)
        if start.shape[0] == 0:
            return load
        self._check_not_empty()
        cdef int64_t[::1] load_view = load
        links = np.zeros(self.layout.npoints, dtype=np.uint32)  # zeroed pages come lazily
        cdef uint32_t[::1] links_view = links
        cdef rc_status status
        with nogil:
            status = rc_assign_bounded(&self.layout, &start[0], <size_t>start.shape[0],
                                       &capacity[0], &load_view[0], nnodes, &links_view[0],
                                       null_owner, &out[0])
        if status == RC_ERR_NOMEM:
            raise MemoryError()
        if status != RC_OK:
            raise ValueError("assign_bounded_into: point indices out of range, or capacities "
                             "that cannot hold the keys")
        return load

    cdef int _check_batch(self, KeyBatch batch, Py_ssize_t start, Py_ssize_t stop,
                          bint allow_nulls) except -1:
        """Raise the error of the first bad key in [start, stop), if any."""
        cdef uint64_t hashes[RC_CHUNK]
        cdef uint8_t nulls[RC_CHUNK]
        cdef size_t bad = 0, lo, hi
        cdef rc_status status = RC_OK
        cdef uint8_t *scratch = batch_scratch(batch)
        with nogil:
            lo = <size_t>start
            while lo < <size_t>stop and status == RC_OK:
                hi = min(lo + RC_CHUNK, <size_t>stop)
                status = rc_hash_keys(&self.hasher.spec, &batch.keys, lo, hi, hashes,
                                      nulls if allow_nulls else NULL, &bad, scratch)
                lo = hi
        free(scratch)
        if status != RC_OK:
            batch.raise_for(status, bad, FOR_ROUTING)
        return 0


def _lanes_force(int kind) -> bool:
    """rc_lanes_force on this module's own copy of the C (see ringcore._lanes)."""
    return rc_lanes_force(kind) == RC_OK


def _lanes_state() -> tuple:
    """(the kinds this module's C can run here, the kind it runs)."""
    return (tuple(k for k in range(<int>RC_LANES_AVX512 + 1)
                  if rc_lanes_available(<rc_lanes_kind>k)),
            <int>rc_lanes_level())


def take_rows(const int32_t[:, ::1] rows not None, const int32_t[::1] indices not None,
              int32_t[:, ::1] out not None, int32_t null_value) -> None:
    """out[k] = rows[indices[k]], or null_value across the row where
    indices[k] < 0 (a null key), without the GIL."""
    cdef Py_ssize_t nrows = rows.shape[0], width = rows.shape[1], n = indices.shape[0]
    if out.shape[0] != n or out.shape[1] != width:
        raise ValueError("take_rows: out must have one row of the rows' width per index")
    cdef Py_ssize_t k, bad = -1
    cdef size_t taken
    if n == 0:
        return
    if nrows == 0 or width == 0:  # no row memory to point at: only the checks and the nulls
        for k in range(n):
            if indices[k] >= nrows:
                bad = k
                break
            if indices[k] < 0 and width:
                out[k, :] = null_value
    else:
        with nogil:
            taken = rc_take_rows(&rows[0, 0], <size_t>nrows, <size_t>width, &indices[0],
                                 <size_t>n, null_value, &out[0, 0])
        bad = -1 if taken == <size_t>n else <Py_ssize_t>taken
    if bad >= 0:
        raise ValueError(f"take_rows: indices[{bad}] = {indices[bad]} is past the {nrows} rows")


def make_layout(cls, tuple names, tuple weights, vnodes, dialect, Hasher hasher not None,
                LayoutMemory points not None, Py_ssize_t npoints, *, bint names_checked=False,
                Py_ssize_t version=0, tuple zones=None):
    """A new layout of type cls (LayoutBase or a subclass) over points made by
    one of the functions below. names_checked: the names are distinct str
    already checked (ringcore.layout's callers), not to be hashed again."""
    if not (isinstance(cls, type) and issubclass(cls, LayoutBase)):
        raise TypeError("make_layout: cls must be a LayoutBase type")
    cdef LayoutBase layout = LayoutBase.__new__(cls)  # not cls.__new__: it builds
    if version < 0:
        raise ValueError(f"make_layout: version must be >= 0, got {version}")
    if zones is None:
        zones = (None,) * len(names)
    elif len(zones) != len(names) or any(
            zone is not None and type(zone) is not str for zone in zones):
        raise ValueError("make_layout: zones must hold a str or None per node")
    layout._fill(names, weights, vnodes, dialect, hasher, points, npoints, names_checked)
    layout.version = version
    layout.node_zones = zones
    return layout


cdef class _PlaceJob:
    """Placing the points of nodes [lo, hi) without the GIL, for the pool."""

    cdef const rc_dialect *spec
    cdef object blob, offsets_array, starts_array  # keep the memory below alive
    cdef const char *names
    cdef size_t names_len
    cdef const int64_t *offsets
    cdef const int64_t *starts      # where node k's points go
    cdef const uint32_t *counts
    cdef const int32_t *owners
    cdef rc_point *out
    cdef rc_status status

    def run(self, Py_ssize_t lo, Py_ssize_t hi) -> None:
        cdef rc_status status
        with nogil:
            status = rc_place_nodes(self.spec, self.names, self.offsets + lo, self.names_len,
                                    self.counts + lo, self.owners + lo, <size_t>(hi - lo),
                                    self.out + self.starts[lo],
                                    <size_t>(self.starts[hi] - self.starts[lo]))
        if status != RC_OK and self.status == RC_OK:
            self.status = status


cdef class _TableJob:
    """Filling table units [lo, hi) of sorted points without the GIL, for the pool."""

    cdef const rc_point *points
    cdef size_t npoints, nnodes, table_len
    cdef uint32_t *table
    cdef int hash_bits
    cdef rc_status status

    def run(self, Py_ssize_t lo, Py_ssize_t hi) -> None:
        cdef rc_status status
        with nogil:
            status = rc_fill_table_range(self.points, self.npoints, self.hash_bits, self.nnodes,
                                         self.table, self.table_len, <size_t>lo, <size_t>hi)
        if status != RC_OK and self.status == RC_OK:
            self.status = status


cdef bint _table_on_threads(rc_point *points, size_t npoints, int hash_bits, size_t nnodes,
                            uint32_t *table, size_t table_len) except -1:
    """The table of trusted sorted points filled on the cores: whether it was."""
    threads = _threads.thread_count(npoints, None)
    if threads < 2:
        return False
    cdef _TableJob job = _TableJob()
    job.points, job.npoints, job.nnodes, job.hash_bits = points, npoints, nnodes, hash_bits
    job.table, job.table_len, job.status = table, table_len, RC_OK
    _threads.run_split(rc_layout_table_units(npoints, hash_bits, nnodes), threads, job.run)
    return job.status == RC_OK


cdef class _SortJob:
    """Sorting buckets [lo, hi) (after rc_sort_top) without the GIL, for the pool."""

    cdef rc_point *points
    cdef rc_point *tmp
    cdef size_t n
    cdef uint32_t ends[RC_SORT_BUCKETS]
    cdef int hash_bits
    cdef rc_status status

    def run(self, Py_ssize_t lo, Py_ssize_t hi) -> None:
        cdef rc_status status
        with nogil:
            status = rc_sort_buckets(self.points, self.tmp, self.n, self.ends, <size_t>lo,
                                     <size_t>hi, self.hash_bits)
        if status != RC_OK and self.status == RC_OK:
            self.status = status


cdef int _sort_on_threads(rc_point *points, rc_point *tmp, size_t n, int hash_bits,
                          object threads, rc_status *status) except -1:
    """rc_sort_points, its bucket phase split across threads."""
    cdef _SortJob job = _SortJob()
    job.points, job.tmp, job.n, job.hash_bits = points, tmp, n, hash_bits
    with nogil:
        status[0] = rc_sort_top(points, n, tmp, hash_bits, job.ends)
    if status[0] != RC_OK:
        return 0
    _threads.run_split(RC_SORT_BUCKETS, threads, job.run)
    status[0] = job.status
    return 0


cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL


def utf8_names(names not None):
    """Plain str names as one UTF-8 blob and where each starts: (blob, offsets),
    offsets of length len(names) + 1. A name without UTF-8 (a lone
    surrogate) raises UnicodeEncodeError."""
    cdef tuple items = tuple(names)  # held: nothing can change it between the passes
    cdef Py_ssize_t n = len(items), k, size = 0, total = 0
    offsets = np.empty(n + 1, dtype=np.int64)
    cdef int64_t[::1] at = offsets
    at[0] = 0
    for k in range(n):
        name = items[k]
        if type(name) is not str:
            raise TypeError(f"utf8_names: names must be str, not {type(name).__name__}")
        PyUnicode_AsUTF8AndSize(name, &size)  # kept in the str: the next pass reads it
        total += size
        at[k + 1] = total
    blob = PyBytes_FromStringAndSize(NULL, total)
    cdef char *dst = PyBytes_AS_STRING(blob)
    cdef const char *src
    for k in range(n):
        src = PyUnicode_AsUTF8AndSize(items[k], &size)
        memcpy(dst + at[k], src, <size_t>size)
    return blob, offsets


def place_nodes(Hasher hasher not None, bytes blob not None,
                const int64_t[::1] name_offsets not None,
                const uint32_t[::1] counts not None,
                const int32_t[::1] owners not None):
    """The points of the given nodes (UTF-8 names in one blob, name k at
    blob[name_offsets[k]:name_offsets[k + 1]], in the order that breaks ties
    between equal positions), sorted in ring order: (points, npoints)."""
    cdef Py_ssize_t nnodes = counts.shape[0]
    if owners.shape[0] != nnodes or name_offsets.shape[0] != nnodes + 1:
        raise ValueError("place_nodes: names, counts and owners differ in length")
    offsets = np.array(name_offsets, dtype=np.int64)  # a copy of its own for the threads
    total = int(np.sum(counts, dtype=np.uint64)) if nnodes else 0
    points = _new_points(total)
    if total == 0:
        return points, 0
    cdef _PlaceJob job = _PlaceJob()
    job.spec = &hasher.spec
    job.offsets_array = offsets
    job.starts_array = np.zeros(nnodes + 1, dtype=np.int64)
    np.cumsum(counts, out=job.starts_array[1:])
    cdef const int64_t[::1] offsets_view = offsets
    cdef const int64_t[::1] starts_view = job.starts_array
    job.blob = blob
    job.names = blob
    job.names_len = len(blob)
    job.offsets = &offsets_view[0]
    job.starts = &starts_view[0]
    job.counts = &counts[0]
    job.owners = &owners[0]
    job.out = _records(points)
    cdef size_t n = <size_t>total
    # the sort's scratch memory becomes a big ring's line table when that is of
    # about the same size (16 bytes a point, within 1/64: not compact lines),
    # memory the kernel then need not zero twice
    cdef size_t table_bytes = (rc_layout_table_len(n, hasher.spec.hash_bits, <size_t>nnodes)
                               * sizeof(uint32_t))
    cdef size_t scratch_bytes = n * sizeof(rc_point)
    cdef bint reuse = (rc_layout_is_big(n) and table_bytes <= scratch_bytes
                       and table_bytes >= scratch_bytes - scratch_bytes // 64)
    cdef LayoutMemory tmp = _allocate(scratch_bytes)
    # placing is cut by node, sorting by bucket: both run on the cores
    threads = _threads.thread_count(total, None)
    _threads.run_split(nnodes, threads, job.run)
    if job.status == RC_OK:
        _sort_on_threads(_records(points), _records(tmp), n, hasher.spec.hash_bits, threads,
                         &job.status)
    if reuse:
        tmp.size = <Py_ssize_t>table_bytes
        points.spare_table = tmp
    del tmp
    if job.status == RC_ERR_NOMEM:
        raise MemoryError()
    if job.status != RC_OK:
        raise ValueError("place_nodes: inconsistent names, counts or owners")
    return _trust(points, int(np.max(owners)) + 1, hasher.spec.hash_bits), total


def sort_placed(positions, owners, int hash_bits):
    """Points from unsorted positions and owners (in the order that breaks
    ties), sorted in ring order as place_nodes sorts them: (points, npoints)."""
    points, n = points_from_arrays(positions, owners)
    cdef rc_point *records = _records(points)
    cdef rc_point *tmp = <rc_point *>rc_alloc_big(<size_t>max(n, 1) * sizeof(rc_point))
    if tmp == NULL:
        raise MemoryError()
    cdef rc_status status
    cdef size_t count = <size_t>n
    with nogil:
        status = rc_sort_points(records, count, tmp, hash_bits)
    rc_free_big(tmp)
    if status != RC_OK:
        raise ValueError("sort_placed: positions too large for the ring")
    # Trust what was stored, not what the caller's objects say about themselves.
    cdef int32_t lowest = 0, highest = -1
    cdef size_t i
    with nogil:
        for i in range(count):
            lowest = min(lowest, records[i].owner)
            highest = max(highest, records[i].owner)
    if lowest < 0:
        return points, n  # the layout's check refuses the bad owner
    return _trust(points, <Py_ssize_t>highest + 1, hash_bits), n


cdef object _checked_ints(values, str what, lowest, bound, dtype):
    """A contiguous 1-D array of `dtype` holding these integers, each checked to
    lie in [lowest, bound): no value is wrapped by a cast."""
    array = np.asarray(values)  # a plain ndarray: a subclass's methods are not used below
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-D")
    if len(array) == 0:
        return np.empty(0, dtype=dtype)
    if array.dtype.kind == "O":
        try:
            array = np.array([int(v) for v in array.tolist()], dtype=object)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{what} must be integers ({err})") from None
        if len(array) and not all(lowest <= v < bound for v in array.tolist()):
            raise ValueError(f"{what} must lie in [{lowest}, {bound})")
        return np.array(array.tolist(), dtype=dtype)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer array, not {array.dtype}")
    # aligned as well as contiguous: a buffer that arrived out of band (pickle
    # protocol 5, dask's transfers) may start at any byte, and C reads whole words
    if array.dtype == np.dtype(dtype):  # every value fits (as pickled): nothing to check
        return np.require(array, requirements=["C", "A"])
    if len(array) and (int(np.min(array)) < lowest or int(np.max(array)) >= bound):
        raise ValueError(f"{what} must lie in [{lowest}, {bound})")
    return np.require(array, dtype=dtype, requirements=["C", "A"])


def points_from_arrays(positions, owners):
    """Points from a ring's positions (sorted) and owners arrays, as pickled:
    (points, npoints). The layout checks them when it is made."""
    points, n, _ = points_from_saved(positions, owners, 0, 64)  # for no node: never trusted
    return points, n


cdef class _SavedJob:
    """Copying and checking saved arrays [lo, hi) without the GIL, for the pool;
    each range marks the owners it saw in an array of its own."""

    cdef object arrays               # keeps the memory below alive
    cdef const uint64_t *pos
    cdef const int32_t *own
    cdef rc_point *out
    cdef int32_t nnodes
    cdef int hash_bits
    cdef list owned                  # one uint8 array per range
    cdef bint valid

    def run(self, Py_ssize_t lo, Py_ssize_t hi) -> None:
        owned_array = np.zeros(max(self.nnodes, 1), dtype=np.uint8)
        cdef uint8_t[::1] owned = owned_array
        cdef int valid
        with nogil:
            valid = rc_points_from_arrays(self.pos + lo, self.own + lo, <size_t>(hi - lo),
                                          self.nnodes, self.hash_bits, self.out + lo, &owned[0])
        # ranges are sorted inside; across a boundary the point before must not be above
        if not valid or (lo > 0 and self.pos[lo - 1] > self.pos[lo]):
            self.valid = False
        self.owned.append(owned_array)


def points_from_saved(positions, owners, Py_ssize_t nnodes, int hash_bits):
    """Points from a saved ring's arrays for nnodes nodes on a ring of
    hash_bits, checked as they are copied (on the cores): (points, npoints,
    whether every node owns a point). Points that pass are trusted; others are
    left for the layout to refuse."""
    pos_array = _checked_ints(positions, "positions", 0, _config.HASH_SPACE, np.uint64)
    own_array = _checked_ints(owners, "owners", -(2**31), 2**31, np.int32)
    cdef const uint64_t[::1] pos = pos_array
    cdef const int32_t[::1] own = own_array
    cdef Py_ssize_t n = pos.shape[0]
    if own.shape[0] != n:
        raise ValueError("positions and owners differ in length")
    if not 0 <= nnodes <= RC_MAX_POINTS or hash_bits not in (32, 64):
        raise ValueError("points_from_saved: bad node count or ring width")
    points = _new_points(n)
    if n == 0:
        return _trust(points, nnodes, hash_bits), 0, nnodes == 0
    cdef _SavedJob job = _SavedJob()
    job.arrays = (pos_array, own_array)
    job.pos, job.own, job.out = &pos[0], &own[0], _records(points)
    job.nnodes, job.hash_bits, job.owned, job.valid = <int32_t>nnodes, hash_bits, [], True
    _threads.run_split(n, _threads.thread_count(n, None), job.run)
    if job.valid:
        _trust(points, nnodes, hash_bits)
    owned = np.bitwise_or.reduce(job.owned) if len(job.owned) > 1 else job.owned[0]
    return points, n, bool(owned[:nnodes].all())


def count_present(LayoutBase layout not None, const uint64_t[::1] positions not None) -> int:
    """How many of positions are positions of the layout's points."""
    cdef size_t n = <size_t>positions.shape[0]
    if n == 0:
        return 0
    with nogil:
        n = rc_count_present(&layout.layout, &positions[0], n)
    return n


def merge_node(LayoutBase old not None, const uint64_t[::1] new_pos not None, int32_t new_owner,
               const uint8_t[::1] new_sorts_first not None):
    """The points of `old` with a new node's sorted points merged in (SPEC.md 4)."""
    cdef size_t n_old = old.layout.npoints, n_new = <size_t>new_pos.shape[0]
    cdef size_t nnodes = len(old.names)
    if <size_t>new_sorts_first.shape[0] != nnodes:
        raise ValueError("merge_node: one tie flag per node")
    points = _new_points(<Py_ssize_t>(n_old + n_new))
    cdef rc_point *records = _records(points)
    slots_array = np.empty(n_new, dtype=np.uint32)
    cdef uint32_t[::1] slots = slots_array
    cdef int hash_bits = old.hasher.spec.hash_bits
    cdef size_t new_nnodes = max(nnodes, <size_t>new_owner + 1) if new_owner >= 0 else nnodes
    cdef LayoutMemory table = _derived_table(old, n_old + n_new, new_nnodes)
    cdef uint32_t *table_ptr = <uint32_t *>table.data if table is not None else NULL
    cdef size_t table_len = (<size_t>table.size // sizeof(uint32_t)) if table is not None else 0
    cdef rc_status status, table_status = RC_ERR_ARG
    cdef bint shifted = False
    with nogil:
        status = rc_merge_points(&old.layout, &new_pos[0] if n_new else NULL, n_new, new_owner,
                                 &new_sorts_first[0] if nnodes else NULL, nnodes, hash_bits,
                                 records, n_old + n_new, &slots[0] if n_new else NULL)
    if status == RC_OK and table_ptr != NULL and old.layout.big:
        shifted = _shift_lines(old, slots_array, -1, table_ptr, table_len)
    if status == RC_OK and table_ptr != NULL:
        with nogil:
            table_status = rc_table_after_merge(&old.layout, &new_pos[0] if n_new else NULL,
                                                &slots[0] if n_new else NULL, n_new, new_owner,
                                                new_nnodes, records, n_old + n_new, table_ptr,
                                                table_len, shifted)
    if status != RC_OK:
        raise ValueError("merge_node: inconsistent ring arrays")
    if table_status == RC_OK:
        points.table = table
    return _trust(points, max(<Py_ssize_t>nnodes, <Py_ssize_t>new_owner + 1), hash_bits), \
        <Py_ssize_t>(n_old + n_new)


def remove_node(LayoutBase old not None, int32_t removed):
    """The points of `old` without node `removed`, owners above it renumbered."""
    cdef size_t n_old = old.layout.npoints, n_out = 0
    cdef size_t nnodes = len(old.names)
    if not 0 <= removed < <int32_t>nnodes:
        raise ValueError("remove_node: no such node index")
    # room for every old point (one pass, not a count first), then cut to what stays
    cdef size_t kept = 0
    points = _new_points(<Py_ssize_t>n_old)
    cdef rc_point *records = _records(points)
    # the removed node's points: the layout's points with its index, at most all
    removed_array = np.empty(max(n_old, 1), dtype=np.uint32)
    cdef uint32_t[::1] removed_at = removed_array
    cdef LayoutMemory table = None
    cdef uint32_t *table_ptr = NULL
    cdef size_t table_len = 0
    cdef rc_status status, table_status = RC_ERR_ARG
    with nogil:
        status = rc_remove_owner(&old.layout, removed, nnodes, records, n_old, &n_out,
                                 &removed_at[0], n_old)
    kept = n_out
    if status == RC_OK:
        table = _derived_table(old, kept, nnodes - 1)
    cdef bint shifted = False
    if table is not None:
        table_ptr = <uint32_t *>table.data
        table_len = <size_t>table.size // sizeof(uint32_t)
        if old.layout.big:
            shifted = _shift_lines(old, removed_array[:n_old - kept], removed, table_ptr,
                                   table_len)
        with nogil:
            table_status = rc_table_after_remove(&old.layout, &removed_at[0], n_old - kept,
                                                 removed, nnodes - 1, records, kept, table_ptr,
                                                 table_len, shifted)
    if status != RC_OK:
        raise ValueError("remove_node: inconsistent ring arrays")
    points.size = <Py_ssize_t>((kept + 1) * sizeof(rc_point))
    if table_status == RC_OK:
        points.table = table
    return _trust(points, <Py_ssize_t>nnodes - 1, old.hasher.spec.hash_bits), <Py_ssize_t>kept


cdef class _ShiftJob:
    """Copying lines [lo, hi) of a big ring's table past an update without
    the GIL, for the pool."""

    cdef LayoutBase old
    cdef object marks_array          # keeps the memory below alive
    cdef const uint32_t *marks
    cdef size_t n_marks, table_len
    cdef int32_t removed
    cdef uint32_t *out
    cdef rc_status status

    def run(self, Py_ssize_t lo, Py_ssize_t hi) -> None:
        cdef rc_status status
        with nogil:
            status = rc_lines_shift(&self.old.layout, self.marks, self.n_marks, self.removed,
                                    self.out, self.table_len, <size_t>lo, <size_t>hi)
        if status != RC_OK and self.status == RC_OK:
            self.status = status


cdef bint _shift_lines(LayoutBase old, marks_array, int32_t removed, uint32_t *out,
                       size_t table_len) except -1:
    """rc_lines_shift over the whole table, on the cores: whether it ran."""
    cdef const uint32_t[::1] marks = marks_array
    cdef _ShiftJob job = _ShiftJob()
    job.old, job.marks_array, job.n_marks = old, marks_array, <size_t>marks.shape[0]
    job.marks = &marks[0] if marks.shape[0] else NULL
    job.removed, job.out, job.table_len, job.status = removed, out, table_len, RC_OK
    cdef size_t nlines = old.layout.nlines
    _threads.run_split(nlines, _threads.thread_count(nlines * RC_LINE_POINTS, None), job.run)
    return job.status == RC_OK


cdef LayoutMemory _derived_table(LayoutBase old, size_t npoints, size_t nnodes):
    """Memory for the table of a layout of npoints made from old, when it has
    old's shape (then it is derived from old's table, not rebuilt), or None."""
    if old.layout.npoints == 0 or not rc_layout_same_shape(&old.layout, npoints, nnodes):
        return None
    return _allocate(rc_layout_table_len(npoints, old.layout.hash_bits, nnodes) * sizeof(uint32_t))


cdef class RingBase:
    """Base of the HashRing facade: holds the current layout and answers
    single-key lookups with one call from Python into compiled code."""

    cdef LayoutBase _current

    @property
    def _layout(self):
        if self._current is None:
            raise EmptyRingError()
        return self._current

    @_layout.setter
    def _layout(self, LayoutBase layout not None) -> None:
        self._current = layout

    def get_node(self, key) -> str:
        """The node that owns key (str, bytes-like or int)."""
        # A local reference: another thread may swap in a new layout meanwhile.
        cdef LayoutBase layout = self._current
        if layout is None:  # made without its __new__: an empty ring
            raise EmptyRingError()
        return layout._get_node(key)

    def get_nodes(self, key, n, *, distinct_zones=False) -> list:
        """The n distinct nodes clockwise from key: the owner first, then
        replicas; with distinct_zones, nodes of zones not taken yet."""
        cdef LayoutBase layout = self._current
        if layout is None:
            raise EmptyRingError()
        if type(distinct_zones) is not bool:
            raise TypeError(f"distinct_zones must be a bool, not {type(distinct_zones).__name__}")
        return layout._get_nodes(key, n, distinct_zones)


def diff_segments(const uint64_t[:] old_positions not None, const int32_t[:] old_owners not None,
                  const uint64_t[:] new_positions not None, const int32_t[:] new_owners not None):
    """The ranges (start, end] of the hash space whose owner differs between
    two rings, from their sorted positions and owners (as ids comparable
    across the rings; both rings non-empty): (starts, ends, old, new) arrays,
    neighbouring ranges of the same pair joined. The range that ends at the
    lowest position starts at the highest and wraps past the ring's end;
    when the rings have one position in all, it is the whole ring (start == end)."""
    cdef size_t na = old_positions.shape[0], nb = new_positions.shape[0]
    if na == 0 or nb == 0:
        raise ValueError("diff_segments: both rings must have points")
    if <size_t>old_owners.shape[0] != na or <size_t>new_owners.shape[0] != nb:
        raise ValueError("diff_segments: one owner per position")
    cdef size_t k
    with nogil:
        for k in range(1, na):
            if old_positions[k] < old_positions[k - 1]:
                break
        else:
            k = 0
    if k:
        raise ValueError("diff_segments: old positions are not sorted")
    with nogil:
        for k in range(1, nb):
            if new_positions[k] < new_positions[k - 1]:
                break
        else:
            k = 0
    if k:
        raise ValueError("diff_segments: new positions are not sorted")
    cdef uint64_t last = max(old_positions[na - 1], new_positions[nb - 1])
    cdef int pass_
    cdef size_t i, j, count = 0, at
    cdef uint64_t p, prev
    cdef int32_t a, b
    starts = ends = olds = news = None
    cdef uint64_t[::1] starts_view, ends_view
    cdef int32_t[::1] olds_view, news_view
    for pass_ in range(2):  # count, then fill
        if pass_ == 1:
            starts = np.empty(count, dtype=np.uint64)
            ends = np.empty(count, dtype=np.uint64)
            olds = np.empty(count, dtype=np.int32)
            news = np.empty(count, dtype=np.int32)
            starts_view, ends_view, olds_view, news_view = starts, ends, olds, news
        with nogil:
            i = j = 0
            at = 0
            prev = last
            while i < na or j < nb:
                # the next boundary: the lowest position not yet passed
                if j >= nb or (i < na and old_positions[i] <= new_positions[j]):
                    p = old_positions[i]
                else:
                    p = new_positions[j]
                # the owner of (prev, p] in each ring: its first point at or after
                # p (every point below p has been passed), wrapping to point 0
                a = old_owners[i] if i < na else old_owners[0]
                b = new_owners[j] if j < nb else new_owners[0]
                if a != b:
                    if pass_ == 0:
                        count += 1
                    elif (at > 0 and ends_view[at - 1] == prev and olds_view[at - 1] == a
                          and news_view[at - 1] == b):
                        ends_view[at - 1] = p  # the same pair goes on: one range
                    else:
                        starts_view[at] = prev
                        ends_view[at] = p
                        olds_view[at] = a
                        news_view[at] = b
                        at += 1
                prev = p
                # pass every point at p in both rings
                while i < na and old_positions[i] == p:
                    i += 1
                while j < nb and new_positions[j] == p:
                    j += 1
        if pass_ == 1:
            count = at
    return starts[:count], ends[:count], olds[:count], news[:count]


def jump_into(const uint64_t[::1] keys not None, int32_t buckets, int32_t[::1] out not None) -> None:
    """out[i] = the jump consistent hash bucket of keys[i] among buckets (>= 1),
    without the GIL."""
    if out.shape[0] != keys.shape[0]:
        raise ValueError("jump_into: out must have one slot per key")
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    if keys.shape[0] == 0:
        return
    with nogil:
        rc_jump_buckets(&keys[0], <size_t>keys.shape[0], buckets, &out[0])


cdef extern from "rc_murmur3.h":
    uint32_t rc_murmur3_32(const uint8_t *data, size_t length, uint32_t seed) noexcept nogil


cdef int64_t[::1] _own_offsets(const int64_t[::1] given):
    """A private copy of the offsets, checked while the loops read it: the
    caller's array may share memory with the output the loops write."""
    return np.array(given, dtype=np.int64, copy=True)


def rendezvous_scores(bytes nodes_text not None, const int64_t[::1] offsets not None,
                      bytes key_text not None, uint32_t[::1] out not None) -> None:
    """out[i] = murmur3_32(node i's text + b"-" + key_text, seed 0): node i's
    text is nodes_text[offsets[i]:offsets[i + 1]]."""
    cdef Py_ssize_t n = out.shape[0], i
    if offsets.shape[0] != n + 1:
        raise ValueError("rendezvous_scores: one offset more than scores")
    cdef int64_t[::1] offs = _own_offsets(offsets)
    cdef Py_ssize_t blob_len = len(nodes_text), key_len = len(key_text), longest = 0
    for i in range(n):
        if offs[i] < 0 or offs[i + 1] < offs[i] or offs[i + 1] > blob_len:
            raise ValueError("rendezvous_scores: offsets outside the node texts")
        longest = max(longest, offs[i + 1] - offs[i])
    cdef bytearray buffer = bytearray(longest + 1 + key_len)
    cdef uint8_t *scratch = <uint8_t *>PyByteArray_AS_STRING(buffer)
    cdef const char *names = PyBytes_AS_STRING(nodes_text)
    cdef const char *key = PyBytes_AS_STRING(key_text)
    cdef size_t name_len
    with nogil:
        for i in range(n):
            name_len = <size_t>(offs[i + 1] - offs[i])
            memcpy(scratch, names + offs[i], name_len)
            scratch[name_len] = 45  # "-"
            memcpy(scratch + name_len + 1, key, <size_t>key_len)
            out[i] = rc_murmur3_32(scratch, name_len + 1 + <size_t>key_len, 0)


def rendezvous_route(bytes nodes_text not None, const int64_t[::1] offsets not None,
                     const int32_t[::1] rank not None, list key_texts not None,
                     int32_t[::1] out not None) -> None:
    """out[k] = the node with the highest score for key_texts[k] (bytes),
    equal scores to the node of the highest rank."""
    cdef Py_ssize_t nnodes = rank.shape[0], nkeys = len(key_texts), k, i
    if offsets.shape[0] != nnodes + 1 or out.shape[0] != nkeys or nnodes == 0:
        raise ValueError("rendezvous_route: nodes, offsets, ranks and keys differ in length")
    # private copies: out may share memory with either
    cdef int64_t[::1] offs = _own_offsets(offsets)
    cdef int32_t[::1] ranks = np.array(rank, dtype=np.int32, copy=True)
    cdef Py_ssize_t blob_len = len(nodes_text), longest = 0, longest_key = 0
    for i in range(nnodes):
        if offs[i] < 0 or offs[i + 1] < offs[i] or offs[i + 1] > blob_len:
            raise ValueError("rendezvous_route: offsets outside the node texts")
        longest = max(longest, offs[i + 1] - offs[i])
    cdef tuple keys = tuple(key_texts)  # held: nothing changes it while it is read
    for k in range(nkeys):
        if type(keys[k]) is not bytes:
            raise TypeError("rendezvous_route: key texts must be bytes")
        longest_key = max(longest_key, len(<bytes>keys[k]))
    cdef bytearray buffer = bytearray(longest + 1 + longest_key)
    cdef uint8_t *scratch = <uint8_t *>PyByteArray_AS_STRING(buffer)
    cdef const char *names = PyBytes_AS_STRING(nodes_text)
    cdef const char *key
    cdef size_t name_len, key_len
    cdef uint32_t score, best
    cdef int32_t winner
    for k in range(nkeys):
        key = PyBytes_AS_STRING(<bytes>keys[k])
        key_len = <size_t>len(<bytes>keys[k])
        with nogil:
            winner = -1
            best = 0
            for i in range(nnodes):
                name_len = <size_t>(offs[i + 1] - offs[i])
                memcpy(scratch, names + offs[i], name_len)
                scratch[name_len] = 45
                memcpy(scratch + name_len + 1, key, key_len)
                score = rc_murmur3_32(scratch, name_len + 1 + key_len, 0)
                if winner < 0 or score > best or (score == best and ranks[i] > ranks[winner]):
                    best = score
                    winner = <int32_t>i
            out[k] = winner
