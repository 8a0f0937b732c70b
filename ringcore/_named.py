"""What the placers without points or weights (JumpHash, RendezvousHash)
share: their node names in order, checked as a ring's are, and the protocol
around them (length, membership, equality, repr, pickling by the names)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import _config


class NamedNodes:
    __slots__ = ("_nodes", "_index")
    _no_weights = "give the node names alone: this placer has no weights"

    def __init__(self, nodes: Iterable[str] = ()) -> None:
        if isinstance(nodes, (str, bytes, bytearray)) or not isinstance(nodes, Iterable):
            raise TypeError(f"nodes must be an iterable of names, not {type(nodes).__name__}")
        if isinstance(nodes, Mapping):
            raise TypeError(self._no_weights)
        names, _, _ = _config.node_columns(list(nodes))
        self._take(names)

    def _take(self, names: tuple[str, ...]) -> None:
        """Hold these names (subclasses derive their own state from them too)."""
        self._nodes = names
        self._index = {name: i for i, name in enumerate(names)}

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names; route() returns indices into this."""
        return self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and str.__str__(name) in self._index

    def __eq__(self, other: object) -> bool:
        if not (isinstance(other, type(self)) or isinstance(self, type(other))):
            return NotImplemented
        return self._nodes == other._nodes  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        nodes = f"<{len(self._nodes)} nodes>" if len(self._nodes) > 8 else list(self._nodes)
        return f"{type(self).__name__}({nodes})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self._nodes),))
