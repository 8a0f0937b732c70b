"""Load: how many keys each node of a ring holds, with the spread (SPEC.md 12)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Load"]


@dataclass(frozen=True, eq=False)
class Load:
    """Keys per node: ``counts[i]`` keys belong to ``nodes[i]``, with a summary
    of the spread (a ring with no keys or no nodes has a mean of 0 and ratios
    of nan)."""

    nodes: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        counts = np.array(self.counts, dtype=np.int64)  # a copy of its own, read-only
        if counts.shape != (len(self.nodes),):
            raise ValueError("a Load needs one count per node")
        counts.flags.writeable = False
        object.__setattr__(self, "counts", counts)

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def mean(self) -> float:
        return self.total / len(self.nodes) if len(self.nodes) else 0.0

    @property
    def max_over_mean(self) -> float:
        """The largest load over the mean: 1.0 is perfectly even."""
        mean = self.mean
        return int(self.counts.max()) / mean if mean else math.nan

    @property
    def stdev_over_mean(self) -> float:
        """Population standard deviation over the mean (coefficient of variation)."""
        mean = self.mean
        return float(self.counts.std()) / mean if mean else math.nan

    @property
    def most(self) -> tuple[str, int]:
        """The most loaded node and its count (the first in node order on a tie)."""
        i = int(np.argmax(self.counts))
        return self.nodes[i], int(self.counts[i])

    @property
    def least(self) -> tuple[str, int]:
        """The least loaded node and its count (the first in node order on a tie)."""
        i = int(np.argmin(self.counts))
        return self.nodes[i], int(self.counts[i])

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.nodes, self.counts.tolist()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Load):
            return NotImplemented
        return self.nodes == other.nodes and np.array_equal(self.counts, other.counts)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not len(self.nodes) or not self.total:
            return f"Load(nodes={len(self.nodes)}, keys={self.total})"
        return (
            f"Load(nodes={len(self.nodes)}, keys={self.total}, "
            f"max/mean={self.max_over_mean:.3f}, stdev/mean={self.stdev_over_mean:.3f}, "
            f"most={self.most}, least={self.least})"
        )
