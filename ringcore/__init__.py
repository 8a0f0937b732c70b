"""ringcore: consistent hashing with virtual nodes, compiled for batch routing.

>>> ring = HashRing(["a", "b", "c"])
>>> ring.get_node("user:42") in ring.nodes
True
"""

from ._core import hash_key, xxh3_64
from .errors import EmptyRingError, NullKeyError
from .ring import HashRing

__all__ = ["HashRing", "EmptyRingError", "NullKeyError", "hash_key", "xxh3_64", "__version__"]

__version__ = "0.1.0"
