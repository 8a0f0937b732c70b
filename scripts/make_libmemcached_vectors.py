"""docs/libmemcached_vectors.json and docs/libmemcached_weighted_vectors.json:
golden vectors of the libmemcached dialects, made without ringcore's own
code. Points come from the rule of SPEC.md 14 written out here in Python
(hashlib's MD5, one-at-a-time below); every lookup is checked against the
libmemcached that pip's pylibmc wheel bundles (pylibmc.Client(...).hash(key)
names a server's index without any server running), each ring in a
subprocess, since that libmemcached crashes on some weighted server lists.

Run: python scripts/make_libmemcached_vectors.py (needs pylibmc)
"""

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent.parent / "docs"
KEYS = ["", "a", "user:42", "héllo wörld", "\x7f\x80", "memcached-key-0001", "x" * 250]
BYTES_KEYS = [b"\x00", b"\xff\xfe", b"session:abc"]
INT_KEYS = [0, 1, 12345]
RINGS = [
    [("127.0.0.1:11211", 1)],
    [("10.0.0.1:11211", 1), ("10.0.0.2:11211", 1), ("10.0.0.3:11212", 1)],
    [("cache-a:11211", 1), ("cache-b:11311", 2), ("cache-c:11211", 3), ("cache-d:11211", 1)],
    [("n1", 1), ("n2:11211", 1), ("n3:9999", 5)],
]


def oaat(data: bytes) -> int:
    """Jenkins one-at-a-time, bytes as signed char."""
    h = 0
    for byte in data:
        h = (h + (byte - 256 if byte >= 128 else byte)) & 0xFFFFFFFF
        h = (h + (h << 10)) & 0xFFFFFFFF
        h ^= h >> 6
    h = (h + (h << 3)) & 0xFFFFFFFF
    h ^= h >> 11
    return (h + (h << 15)) & 0xFFFFFFFF


def md5_low32(data: bytes) -> int:
    return int.from_bytes(hashlib.md5(data).digest()[:4], "little")


def base(server: str) -> str:
    host, colon, port = server.rpartition(":")
    return host if colon and port == "11211" else server


def points(nodes: list, weighted_layout: bool) -> list:
    if not weighted_layout:
        found = [(oaat(f"{base(s)}-{i}".encode()), k) for k, (s, _) in enumerate(nodes)
                 for i in range(100)]
    else:
        f32 = np.float32
        total, count = f32(sum(w for _, w in nodes)), f32(len(nodes))
        found = []
        for k, (server, w) in enumerate(nodes):
            x = f32(f32(f32(f32(w) / total) * f32(160)) / f32(4)) * count
            for i in range(math.floor(float(x) + 1e-10)):
                digest = hashlib.md5(f"{base(server)}-{i}".encode()).digest()
                found += [(int.from_bytes(digest[4 * j: 4 * j + 4], "little"), k)
                          for j in range(4)]
    return sorted(found, key=lambda p: p[0])  # stable: the server listed first first


def key_bytes(key) -> bytes:
    return key.encode() if isinstance(key, str) else key if isinstance(key, bytes) else \
        str(key).encode()


def key_entry(key) -> dict:
    if isinstance(key, str):
        return {"type": "str", "value": key}
    if isinstance(key, bytes):
        return {"type": "bytes", "hex": key.hex()}
    return {"type": "int", "value": str(key)}


ORACLE = """
import json, sys, pylibmc
spec, behaviors, keys = json.loads(sys.stdin.read())
client = pylibmc.Client(spec, behaviors=behaviors)
print(json.dumps([client.hash(k.encode("latin-1")) for k in keys]))
"""


def oracle(nodes: list, behaviors: dict, keys: list) -> list | None:
    spec = [f"{s}:{w}" if ":" in s else f"{s}:11211:{w}" for s, w in nodes]
    raw = [key_bytes(k).decode("latin-1") for k in keys]
    done = subprocess.run([sys.executable, "-c", ORACLE], input=json.dumps([spec, behaviors, raw]),
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"libmemcached failed on {spec} {behaviors}: skipped", file=sys.stderr)
        return None
    return json.loads(done.stdout)


def make(name: str, behaviors: dict, hashing) -> dict:
    keys = KEYS + BYTES_KEYS + INT_KEYS
    vectors = {"dialect": name,
               "key_hashes": [{"key": key_entry(k), "bytes": key_bytes(k).hex(),
                               "hash": f"{hashing(key_bytes(k)):#010x}"} for k in keys],
               "rings": []}
    lookup_keys = [f"key-{i}" for i in range(40)] + keys
    for nodes in RINGS:
        weighted = name == "libmemcached-weighted" or any(w != 1 for _, w in nodes)
        ring = points(nodes, weighted)
        positions = [p for p, _ in ring]
        answers = oracle(nodes, behaviors, lookup_keys)
        if answers is None:
            continue
        lookups = []
        for key, server in zip(lookup_keys, answers):
            h = hashing(key_bytes(key))
            at = next((i for i, p in enumerate(positions) if p >= h), 0)
            assert ring[at][1] == server, (name, nodes, key)  # the rule is libmemcached's
            lookups.append({"key": key_entry(key), "node": nodes[server][0]})
        vectors["rings"].append({
            "vnodes": 100 if name == "libmemcached" else 160,
            "nodes": [[s, float(w)] for s, w in nodes],
            "points": [[f"{p:#018x}", nodes[k][0]] for p, k in ring],
            "lookups": lookups,
        })
    return vectors


def main() -> None:
    for name, behaviors, hashing, path in (
        ("libmemcached", {"ketama": True}, oaat, "libmemcached_vectors.json"),
        ("libmemcached-weighted", {"ketama_weighted": True}, md5_low32,
         "libmemcached_weighted_vectors.json"),
    ):
        (DOCS / path).write_text(json.dumps(make(name, behaviors, hashing), ensure_ascii=False),
                                 encoding="utf-8")


if __name__ == "__main__":
    main()
