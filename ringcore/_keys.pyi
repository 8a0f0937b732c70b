from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import disjoint_base

__pyx_capi__: dict[str, Any]  # C functions ringcore._layout cimports

HASH_XXH3_64: int
HASH_MD5_LOW32: int
HASH_OAAT: int
POINTS_KETAMA: int
POINTS_OAAT_NAME_I: int
POINTS_NAME_HASH_J: int

def xxh3_64(data: Any) -> int: ...
def md5(data: Any) -> bytes: ...
def _lanes_force(kind: int) -> bool: ...
def _lanes_state() -> tuple[tuple[int, ...], int]: ...
def hash_key(key: object) -> int: ...
def hashes_from_list(hashes: list[Any], out: NDArray[np.uint64]) -> None: ...
@disjoint_base
class Hasher:
    def __new__(cls, hash_kind: int, points_kind: int, hash_bits: int) -> Hasher: ...
    @property
    def hash_bits(self) -> int: ...
    def hash_key(self, key: object) -> int: ...
    def hash_list(self, keys: list[Any], out: NDArray[np.uint64]) -> None: ...
    def hash_batch(self, batch: KeyBatch, out: NDArray[np.uint64], start: int, stop: int) -> None: ...
    def node_points(self, name: bytes, count: int) -> NDArray[np.uint64]: ...

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
