"""Rendezvous (highest random weight) hashing, key for key with pymemcache's
default hasher, ``pymemcache.client.rendezvous.RendezvousHash``.

A key's node is the one with the highest score ``murmur3_32(f"{node}-{key}")``
(seed 0), where each character of that text counts as its low byte (not its
UTF-8), and a key that is ``bytes`` is formatted as Python formats it,
``b'...'``, as pymemcache's f-string does; equal scores go to the greatest
node name. Every lookup scores every node: O(nodes) a key.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import _config
from ._layout import rendezvous_route, rendezvous_scores
from ._named import NamedNodes
from .errors import EmptyRingError

__all__ = ["RendezvousHash"]


def _low_bytes(text: str) -> bytes:
    """Each character's low byte, as pymemcache's murmur3 reads a str."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return (codes & 0xFF).astype(np.uint8).tobytes()


def _key_text(key: object) -> bytes:
    """The text pymemcache scores: f"{key}" (so bytes as their repr, b'...').
    A key's kind is its type's and its value is read as it is held, as in
    docs/SPEC.md 1: a subclass's __bytes__, __int__ or __str__ and a
    __class__ claiming another type are not taken."""
    kind = type(key)
    if issubclass(kind, (bytes, bytearray, memoryview)):
        return _low_bytes(repr(memoryview(key).tobytes()))  # type: ignore[arg-type]
    if issubclass(kind, str):
        return _low_bytes(str.__str__(key))
    if issubclass(kind, int) and not issubclass(kind, bool):
        return str(int.__index__(key)).encode("ascii")  # type: ignore[arg-type]
    raise TypeError(f"unsupported key type {kind.__name__}")


class RendezvousHash(NamedNodes):
    """Highest random weight hashing over named nodes (see the module)."""

    __slots__ = ("_text", "_offsets", "_rank")
    _no_weights = "rendezvous hashing here has no weights: give the node names alone"

    def _take(self, names: tuple[str, ...]) -> None:
        super()._take(names)
        texts = [_low_bytes(name) for name in names]
        offsets = np.zeros(len(names) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in texts], out=offsets[1:])
        rank = np.empty(len(names), dtype=np.int32)
        rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        self._text, self._offsets, self._rank = b"".join(texts), offsets, rank

    def add_node(self, name: str) -> None:
        name = _config.check_name(name)
        if name in self._index:
            raise ValueError(f"node {name!r} is already in the ring")
        self._take(self._nodes + (name,))

    def remove_node(self, name: str) -> None:
        name = _config.exact_name(name)
        if name not in self._index:
            raise KeyError(f"node {name!r} is not in the ring")
        self._take(tuple(n for n in self._nodes if n != name))

    def scores(self, key: object) -> np.ndarray:
        """uint32 score of every node for one key."""
        out = np.empty(len(self._nodes), dtype=np.uint32)
        rendezvous_scores(self._text, self._offsets, _key_text(key), out)
        return out

    def get_node(self, key: object) -> str:
        return self._nodes[int(self.route([key])[0])]

    def get_nodes(self, key: object, n: int) -> list[str]:
        """The n nodes of the highest scores, highest first (ties: greater name first)."""
        count = _config.check_replica_type(n)
        scores = self.scores(key)
        if not self._nodes:
            raise EmptyRingError()
        _config.check_replica_range(count, len(self._nodes))
        order = np.lexsort((-self._rank.astype(np.int64), -scores.astype(np.int64)))
        return [self._nodes[i] for i in order[:count].tolist()]

    def route(self, keys: Iterable[object]) -> np.ndarray:
        """int32 index into ``nodes`` of each key's node (str, bytes or int keys)."""
        if isinstance(keys, (str, bytes, bytearray, memoryview)):
            raise TypeError(f"keys must be a batch of keys, not a single {type(keys).__name__}")
        texts = [_key_text(k) for k in (keys.tolist() if isinstance(keys, np.ndarray) else keys)]
        out = np.empty(len(texts), dtype=np.int32)
        if texts:
            if not self._nodes:
                raise EmptyRingError()
            rendezvous_route(self._text, self._offsets, self._rank, texts, out)
        return out
