"""The libmemcached dialects, key for key with the libmemcached that pip's
pylibmc wheel bundles (pylibmc.Client(...).hash(key) names a server's index
with no server running), each ring asked in a subprocess: that libmemcached
crashes on some weighted server lists."""

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from strategies import place_on_two_positions

from ringcore import HashRing

ORACLE = """
import json, sys, pylibmc
spec, behaviors, keys = json.loads(sys.stdin.read())
client = pylibmc.Client(spec, behaviors=behaviors)
print(json.dumps([client.hash(k.encode("latin-1")) for k in keys]))
"""
BEHAVIORS = {"libmemcached": {"ketama": True}, "libmemcached-weighted": {"ketama_weighted": True}}


def libmemcached_servers(nodes: dict, behaviors: dict, keys: list[bytes]):
    """libmemcached's server index for each key, or None if it crashed."""
    pytest.importorskip("pylibmc")
    spec = [f"{name}:{int(w)}" for name, w in nodes.items()]
    done = subprocess.run(
        [sys.executable, "-c", ORACLE],
        input=json.dumps([spec, behaviors, [k.decode("latin-1") for k in keys]]),
        capture_output=True, text=True, timeout=120,
    )
    return json.loads(done.stdout) if done.returncode == 0 else None


@pytest.mark.parametrize("dialect", sorted(BEHAVIORS))
def test_libmemcached_agrees_key_for_key(dialect):
    rng = random.Random(7)
    keys = [f"key:{i}".encode() for i in range(2000)] + [b"\x80\xff", "é".encode(), b""]
    asked = 0
    for trial in range(8):
        count = rng.randint(1, 12)
        nodes = {f"10.0.{rng.randint(0, 9)}.{i}:{rng.choice([11211, 11212])}":
                 float(rng.randint(1, 4) if trial % 2 else 1) for i in range(count)}
        expected = libmemcached_servers(nodes, BEHAVIORS[dialect], keys)
        if expected is None:
            continue  # that libmemcached's own crash
        asked += 1
        ring = HashRing(nodes, dialect=dialect)
        assert ring.route(keys).tolist() == expected, nodes
        assert ring.route(np.array(keys)).tolist() == expected
    assert asked >= 4


def test_libmemcached_point_rules():
    plain = HashRing({"10.0.0.1:11211": 1.0, "10.0.0.2:11212": 1.0}, dialect="libmemcached")
    assert len(plain.positions) == 200 and plain.vnodes == 100
    # the host alone names the points of port 11211; a name without a port is a host
    assert np.array_equal(HashRing(["10.0.0.1"], dialect="libmemcached").positions,
                          HashRing(["10.0.0.1:11211"], dialect="libmemcached").positions)
    assert not np.array_equal(HashRing(["10.0.0.1:11212"], dialect="libmemcached").positions,
                              HashRing(["10.0.0.1"], dialect="libmemcached").positions)
    # a weight other than 1 switches ketama to the weighted points (the key hash stays)
    weighted = HashRing({"10.0.0.1:11211": 2.0, "10.0.0.2:11212": 1.0}, dialect="libmemcached")
    assert len(weighted.positions) == 4 * (53 + 26)
    # 100 equal servers get 156 points each in the weighted dialect, not 160 (float32)
    many = HashRing([f"s{i}" for i in range(100)], dialect="libmemcached-weighted")
    assert len(many.positions) == 100 * 156
    with pytest.raises(ValueError, match="whole number"):
        HashRing({"a": 1.5}, dialect="libmemcached")
    with pytest.raises(ValueError, match="whole number"):
        HashRing({"a": 2.0, "b": 0.5}, dialect="libmemcached-weighted")


def test_libmemcached_ties_go_to_the_server_listed_first(monkeypatch):
    from ringcore import layout

    monkeypatch.setattr(layout, "_place", place_on_two_positions)
    for order in (["b:1", "a:1", "c:1"], ["c:1", "a:1", "b:1"]):
        for dialect in sorted(BEHAVIORS):
            ring = HashRing(order, dialect=dialect)
            assert ring.nodes[ring.owners[0]] == order[0]


def test_libmemcached_updates_rebuild():
    ring = HashRing({"a:11211": 1.0, "b:11211": 1.0}, dialect="libmemcached")
    ring.add_node("c:11211", 3.0)
    assert ring == HashRing({"a:11211": 1.0, "b:11211": 1.0, "c:11211": 3.0},
                            dialect="libmemcached")
    ring.remove_node("c:11211")
    assert ring == HashRing({"a:11211": 1.0, "b:11211": 1.0}, dialect="libmemcached")
    assert len(ring.positions) == 200 and ring.version == 2
