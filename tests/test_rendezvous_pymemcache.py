"""RendezvousHash against pymemcache's own, and ringcore.pymemcache.Hasher
inside pymemcache's HashClient (no server needed: the client is only asked
which server a key goes to)."""

import functools
import pickle

import numpy as np
import pytest

import ringcore
from ringcore import HashRing, RendezvousHash
from ringcore.pymemcache import Hasher

pymemcache = pytest.importorskip("pymemcache")
from pymemcache.client.hash import HashClient  # noqa: E402
from pymemcache.client.rendezvous import RendezvousHash as PeerRendezvous  # noqa: E402

KEYS = [f"key:{i}" for i in range(3000)] + ["é", "ĀĂ", "🙂x", "", b"bytes-key", b"\xff", 42, -7]


@pytest.mark.parametrize("count", [1, 3, 10, 100])
def test_rendezvous_agrees_with_pymemcache(count):
    names = [f"10.0.0.{i}:11211" for i in range(count)]
    peer, ring = PeerRendezvous(list(names)), RendezvousHash(names)
    expected = [peer.get_node(k) for k in KEYS]
    assert [names[i] for i in ring.route(KEYS).tolist()] == expected
    assert [ring.get_node(k) for k in KEYS[:200]] == expected[:200]
    assert ring.get_nodes("key:1", count)[0] == ring.get_node("key:1")
    assert sorted(ring.get_nodes("key:1", count)) == sorted(names)


def test_rendezvous_updates_and_errors():
    ring = RendezvousHash(["a", "b", "c"])
    before = ring.route(KEYS)
    ring.add_node("d")
    after = ring.route(KEYS)
    moved = before != after
    assert (after[moved] == 3).all()  # keys move only to the new node
    ring.remove_node("d")
    assert np.array_equal(ring.route(KEYS), before)
    scores = ring.scores("k")
    assert scores.dtype == np.uint32 and ring.get_node("k") == ring.nodes[int(scores.argmax())]
    with pytest.raises(KeyError):
        ring.remove_node("zz")
    with pytest.raises(ValueError, match="already"):
        ring.add_node("a")
    with pytest.raises(ringcore.EmptyRingError):
        RendezvousHash([]).get_node("k")
    with pytest.raises(TypeError):
        ring.route([1.5])
    with pytest.raises(TypeError, match="single"):
        ring.route("abc")
    assert RendezvousHash([]).route([]).shape == (0,)
    assert pickle.loads(pickle.dumps(ring)) == ring


def servers(count):
    return [("127.0.0.1", 20000 + i) for i in range(count)]


@pytest.mark.parametrize("dialect", [None, "ketama", "libmemcached"])
def test_hasher_in_hashclient_routes_like_the_ring(dialect):
    hasher = functools.partial(Hasher, dialect=dialect) if dialect else Hasher
    client = HashClient(servers(5), hasher=hasher, connect_timeout=0.1, timeout=0.1)
    ring = HashRing([f"127.0.0.1:{20000 + i}" for i in range(5)], dialect=dialect)
    for key in KEYS[:500]:
        if isinstance(key, int):
            continue
        assert client._get_client(key if isinstance(key, (str, bytes)) else str(key)).server == \
            ("127.0.0.1", int(ring.get_node(key).rsplit(":", 1)[1]))


def test_hasher_survives_a_server_failing_and_coming_back():
    hasher = Hasher()
    for i in range(3):
        hasher.add_node(f"s{i}")
    before = [hasher.get_node(k) for k in KEYS[:300]]
    hasher.remove_node("s1")
    hasher.remove_node("s1")  # twice: a no-op
    assert "s1" not in [hasher.get_node(k) for k in KEYS[:300]]
    hasher.add_node("s1")
    hasher.add_node("s1")
    assert [hasher.get_node(k) for k in KEYS[:300]] == before
    for i in range(3):
        hasher.remove_node(f"s{i}")
    assert hasher.get_node("k") is None  # HashClient: every server is down
