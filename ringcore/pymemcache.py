"""A drop-in hasher for pymemcache's HashClient.

``pymemcache.client.hash.HashClient(servers, hasher=ringcore.pymemcache.Hasher)``
routes keys like ``HashRing(servers)``, over the node names HashClient gives
(``"host:port"``). For another dialect pass a partial or a subclass:
``hasher=functools.partial(ringcore.pymemcache.Hasher, dialect="libmemcached")``
(then pymemcache agrees key for key with pylibmc clients of the same
servers). ``pymemcache.client.rendezvous.RendezvousHash``, HashClient's own
default, is ``ringcore.RendezvousHash`` in batch.
"""

from __future__ import annotations

from typing import Any

from .ring import HashRing

__all__ = ["Hasher"]


class Hasher:
    """The hasher protocol HashClient calls: add_node, remove_node, get_node.

    get_node returns None on an empty ring (HashClient then reports that
    every server is down); adding a node that is there already and removing
    one that is not are no-ops, so the remove/add sequence HashClient runs
    when a server fails and comes back is safe."""

    def __init__(self, *, dialect: Any = None, vnodes: int | None = None) -> None:
        self.ring = HashRing((), vnodes=vnodes, dialect=dialect)

    def add_node(self, node: str) -> None:
        if node not in self.ring:
            self.ring.add_node(node)

    def remove_node(self, node: str) -> None:
        if node in self.ring:
            self.ring.remove_node(node)

    def get_node(self, key: object) -> str | None:
        snapshot = self.ring.snapshot()
        return snapshot.get_node(key) if len(snapshot.names) else None
