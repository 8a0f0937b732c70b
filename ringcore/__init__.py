"""ringcore: consistent hashing with virtual nodes, compiled for batch routing.

>>> ring = HashRing(["a", "b", "c"])
>>> ring.get_node("user:42") in ring.nodes
True
"""

try:
    from ._keys import hash_key, xxh3_64
except ModuleNotFoundError as _missing:  # pragma: no cover - depends on how Python was started
    if _missing.name != f"{__name__}._keys":
        raise
    raise ImportError(
        f"ringcore's compiled core is not built in {__path__[0]}: this is the source tree "
        "of a checkout, imported because Python runs from its root. Run from another "
        "directory to use the installed ringcore ('pip install .' first), or build the "
        "core in place with 'pip install -e .'.",
        name=_missing.name,
    ) from None
from ._version import __version__
from .errors import EmptyRingError, NullKeyError
from .jump import JumpHash, jump_hash
from .layout import RingLayout
from .ops import Load
from .plan import Plan
from .rendezvous import RendezvousHash
from .ring import HashRing

__all__ = [
    "HashRing", "RingLayout", "Load", "Plan", "JumpHash", "jump_hash", "RendezvousHash", "EmptyRingError",
    "NullKeyError", "hash_key", "xxh3_64", "__version__",
]

