"""tests/vectors/peers.json: what the peer libraries answer for many keys
over several cluster shapes, recorded from the peers themselves (uhashring,
the libmemcached in pip's pylibmc wheel, pymemcache, jump-consistent-hash),
each entry naming the library and version that produced it. The keys are
f"{prefix}{i}" for i < count (jump: the integers i); the answers are stored
as the SHA-256 of the node indices (uint16, little-endian) and the first 100
indices, so 100,000 keys take a few bytes. tests/test_peer_vectors.py holds
ringcore to them.

Run: python scripts/make_peer_vectors.py   (needs those libraries; pylibmc
runs in subprocesses, since its libmemcached crashes on some weighted lists)
"""

import hashlib
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "peers.json"
COUNT = 100_000


def shapes():
    for count in (1, 3, 10, 100):
        yield f"{count} servers, default port", {f"10.0.0.{i}:11211": 1 for i in range(count)}
    yield "10 servers, other ports", {f"10.0.1.{i}:{11212 + i}": 1 for i in range(10)}
    yield "10 servers, no port", {f"cache-{i}": 1 for i in range(10)}
    yield "10 servers, weights 1 to 4", {f"10.0.2.{i}:11211": 1 + i % 4 for i in range(10)}


def record(dialect, peer, shape, nodes, prefix, answers) -> dict:
    indices = np.asarray(answers, dtype="<u2")
    return {"dialect": dialect, "peer": peer, "shape": shape,
            "nodes": [[name, float(w)] for name, w in nodes.items()],
            "prefix": prefix, "count": len(indices),
            "sha256": hashlib.sha256(indices.tobytes()).hexdigest(),
            "first": indices[:100].tolist()}


PYLIBMC = """
import json, sys, pylibmc
spec, behaviors, prefix, count = json.loads(sys.stdin.read())
client = pylibmc.Client(spec, behaviors=behaviors)
print(json.dumps([client.hash(f"{prefix}{i}") for i in range(count)]))
"""


def main() -> None:
    import jump
    import uhashring
    from pymemcache.client.rendezvous import RendezvousHash

    entries = []
    for shape, nodes in shapes():
        names = list(nodes)
        prefix = "key:"
        # ketama (uhashring takes the first point above a hash, ketama at or
        # above it: change the keys until none hashes onto a point)
        peer = uhashring.HashRing(nodes={n: {"weight": w} for n, w in nodes.items()},
                                  hash_fn="ketama")
        points = set(peer.runtime._keys)
        while any(int.from_bytes(hashlib.md5(f"{prefix}{i}".encode()).digest()[:4], "little")
                  in points for i in range(COUNT)):
            prefix = "k" + prefix
        entries.append(record("ketama", f"uhashring {version('uhashring')}", shape, nodes, prefix,
                              [names.index(peer.get_node(f"{prefix}{i}")) for i in range(COUNT)]))
        # libmemcached, in a subprocess
        for dialect, behaviors in (("libmemcached", {"ketama": True}),
                                   ("libmemcached-weighted", {"ketama_weighted": True})):
            spec = [f"{n}:{w}" if ":" in n else f"{n}:11211:{w}" for n, w in nodes.items()]
            done = subprocess.run([sys.executable, "-c", PYLIBMC], capture_output=True, text=True,
                                  input=json.dumps([spec, behaviors, "key:", COUNT]))
            if done.returncode != 0:
                print(f"libmemcached crashed on {shape}, {dialect}: left out", file=sys.stderr)
                continue
            entries.append(record(dialect, f"pylibmc {version('pylibmc')} (libmemcached)",
                                  shape, nodes, "key:", json.loads(done.stdout)))
        if all(w == 1 for w in nodes.values()):
            count = COUNT if len(nodes) <= 10 else COUNT // 10
            rendezvous = RendezvousHash(list(names))
            entries.append(record("rendezvous", f"pymemcache {version('pymemcache')}", shape,
                                  nodes, "key:", [names.index(rendezvous.get_node(f"key:{i}"))
                                                  for i in range(count)]))
            entries.append(record("jump", f"jump-consistent-hash {version('jump-consistent-hash')}",
                                  shape, nodes, "", [jump.hash(i, len(names))
                                                     for i in range(COUNT)]))
    OUT.write_text(json.dumps({"entries": entries}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
