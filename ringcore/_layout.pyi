from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import disjoint_base

from ._keys import Hasher, KeyBatch

POINT_DTYPE: np.dtype[Any]
LINE_DTYPE: np.dtype[Any]
CLINE_DTYPE: np.dtype[Any]

@disjoint_base
class LayoutMemory:
    def __len__(self) -> int: ...
    @property
    def derived_table(self) -> bool: ...

@disjoint_base
class LayoutBase:
    names: tuple[str, ...]
    node_weights: tuple[float, ...]
    node_zones: tuple[str | None, ...]
    vnodes: int
    dialect: Any
    hasher: Hasher
    positions: NDArray[np.uint64]
    owners: NDArray[np.int32]
    table: NDArray[np.uint32]
    lines: NDArray[Any]
    table_derived: bool
    version: int
    derived: dict[Any, Any]
    def __len__(self) -> int: ...
    @property
    def big(self) -> bool: ...
    @property
    def compact(self) -> bool: ...
    @property
    def index(self) -> Mapping[str, int]: ...
    def position_of(self, name: str) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    @property
    def nodes(self) -> tuple[str, ...]: ...
    def get_node(self, key: object) -> str: ...
    def get_nodes(self, key: object, n: int, *, distinct_zones: bool = ...) -> list[str]: ...
    def zone_classes(self) -> tuple[NDArray[np.int32], int]: ...
    def route_hashes_into(
        self, hashes: NDArray[np.uint64], out: NDArray[np.int32], indices: bool = ...
    ) -> None: ...
    def route_list_into(
        self,
        keys: list[Any],
        out: NDArray[np.int32],
        allow_nulls: bool = ...,
        null_owner: int = ...,
        indices: bool = ...,
    ) -> None: ...
    def route_batch_into(
        self,
        batch: KeyBatch,
        out: NDArray[np.int32],
        start: int,
        stop: int,
        allow_nulls: bool = ...,
        null_owner: int = ...,
        indices: bool = ...,
    ) -> None: ...
    def replica_rows_of(self, n: int, class_of: NDArray[np.int32]) -> NDArray[np.int32]: ...
    def assign_bounded_into(
        self,
        start: NDArray[np.int32],
        capacity: NDArray[np.int64],
        null_owner: int,
        out: NDArray[np.int32],
    ) -> NDArray[np.int64]: ...

def make_layout(
    cls: type[Any],
    names: tuple[str, ...],
    weights: tuple[float, ...],
    vnodes: int,
    dialect: Any,
    hasher: Hasher,
    points: LayoutMemory,
    npoints: int,
    *,
    names_checked: bool = ...,
    version: int = ...,
    zones: tuple[str | None, ...] | None = ...,
) -> Any: ...
def diff_segments(
    old_positions: NDArray[np.uint64],
    old_owners: NDArray[np.int32],
    new_positions: NDArray[np.uint64],
    new_owners: NDArray[np.int32],
) -> tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int32], NDArray[np.int32]]: ...
def jump_into(keys: NDArray[np.uint64], buckets: int, out: NDArray[np.int32]) -> None: ...
def rendezvous_scores(
    nodes_text: bytes, offsets: NDArray[np.int64], key_text: bytes, out: NDArray[np.uint32]
) -> None: ...
def rendezvous_route(
    nodes_text: bytes,
    offsets: NDArray[np.int64],
    rank: NDArray[np.int32],
    key_texts: list[bytes],
    out: NDArray[np.int32],
) -> None: ...
def _lanes_force(kind: int) -> bool: ...
def _lanes_state() -> tuple[tuple[int, ...], int]: ...
def take_rows(
    rows: NDArray[np.int32], indices: NDArray[np.int32], out: NDArray[np.int32], null_value: int
) -> None: ...
def utf8_names(names: Iterable[str]) -> tuple[bytes, NDArray[np.int64]]: ...
def place_nodes(
    hasher: Hasher,
    blob: bytes,
    name_offsets: NDArray[np.int64],
    counts: NDArray[np.uint32],
    owners: NDArray[np.int32],
) -> tuple[LayoutMemory, int]: ...
def sort_placed(positions: Any, owners: Any, hash_bits: int) -> tuple[LayoutMemory, int]: ...
def points_from_arrays(positions: Any, owners: Any) -> tuple[LayoutMemory, int]: ...
def points_from_saved(
    positions: Any, owners: Any, nnodes: int, hash_bits: int
) -> tuple[LayoutMemory, int, bool]: ...
def kept_memory() -> tuple[int, int]: ...
def count_present(layout: LayoutBase, positions: NDArray[np.uint64]) -> int: ...
def merge_node(
    old: LayoutBase, new_pos: NDArray[np.uint64], new_owner: int, new_sorts_first: NDArray[np.uint8]
) -> tuple[LayoutMemory, int]: ...
def remove_node(old: LayoutBase, removed: int) -> tuple[LayoutMemory, int]: ...
@disjoint_base
class RingBase:
    @property
    def _layout(self) -> LayoutBase: ...
    @_layout.setter
    def _layout(self, layout: LayoutBase) -> None: ...
    def get_node(self, key: object) -> str: ...
    def get_nodes(self, key: object, n: int, *, distinct_zones: bool = ...) -> list[str]: ...
