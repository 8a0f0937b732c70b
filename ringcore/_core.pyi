from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import disjoint_base

def xxh3_64(data: Any) -> int: ...
def hash_key(key: object) -> int: ...
def hash_list(keys: list[Any], out: NDArray[np.uint64]) -> None: ...
def hashes_from_list(hashes: list[Any], out: NDArray[np.uint64]) -> None: ...
@disjoint_base
class KeyBatch:
    source: Any
    first: int
    def __len__(self) -> int: ...
    @staticmethod
    def from_numpy(values: np.ndarray, first: int = ...) -> KeyBatch: ...
    @staticmethod
    def from_arrow(
        layout: str,
        n: int,
        offset: int,
        validity: Any,
        main: Any,
        data: Any = ...,
        view_buffers: list[Any] | None = ...,
        width: int = ...,
        is_signed: bool = ...,
        source: Any = ...,
        first: int = ...,
    ) -> KeyBatch: ...

def hash_batch(batch: KeyBatch, out: NDArray[np.uint64], start: int, stop: int) -> None: ...
def node_points(name: bytes, count: int) -> NDArray[np.uint64]: ...
def sort_points(positions: NDArray[np.uint64], owners: NDArray[np.int32]) -> None: ...
def merge_points(
    old_pos: NDArray[np.uint64],
    old_own: NDArray[np.int32],
    new_pos: NDArray[np.uint64],
    new_owner: int,
    new_sorts_first: NDArray[np.uint8],
) -> tuple[NDArray[np.uint64], NDArray[np.int32]]: ...

@disjoint_base
class RingState:
    names: tuple[str, ...]
    weights: tuple[float, ...]
    index: dict[str, int]
    positions: NDArray[np.uint64]
    owners: NDArray[np.int32]
    table: NDArray[np.uint32]
    def __new__(
        cls,
        names: tuple[str, ...],
        weights: tuple[float, ...],
        positions: NDArray[np.uint64],
        owners: NDArray[np.int32],
    ) -> RingState: ...
    def route_hashes(self, hashes: NDArray[np.uint64], out: NDArray[np.int32]) -> None: ...
    def route_list(
        self, keys: list[Any], out: NDArray[np.int32], allow_nulls: bool = ..., null_owner: int = ...
    ) -> None: ...
    def route_batch(
        self,
        batch: KeyBatch,
        out: NDArray[np.int32],
        start: int,
        stop: int,
        allow_nulls: bool = ...,
        null_owner: int = ...,
    ) -> None: ...

@disjoint_base
class RingBase:
    @property
    def _state(self) -> RingState: ...
    @_state.setter
    def _state(self, state: RingState) -> None: ...
    def get_node(self, key: object) -> str: ...
    def get_nodes(self, key: object, n: int) -> list[str]: ...
