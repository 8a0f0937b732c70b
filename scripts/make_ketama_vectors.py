"""docs/ketama_vectors.json: the ketama dialect's golden vectors, made
without ringcore's own code: key hashes from hashlib's MD5, points and
lookups from uhashring's ketama ring (pip install uhashring), keys whose
hash is a point left out (uhashring takes the first point above a hash,
ketama the first at or above it: SPEC.md 14).

Run: python scripts/make_ketama_vectors.py > docs/ketama_vectors.json
"""

import hashlib
import json

import uhashring

KEYS = ["", "a", "user:42", "héllo wörld", "memcached-key-0001", "x" * 250]
BYTES_KEYS = [b"\x00", b"\xff\xfe", b"session:abc"]
INT_KEYS = [0, 1, 12345, 2**64 - 1]
RINGS = [
    (40, [("127.0.0.1:11211", 1)]),
    (40, [("10.0.0.1:11211", 1), ("10.0.0.2:11211", 1), ("10.0.0.3:11211", 1)]),
    (40, [("cache-a", 1), ("cache-b", 2), ("cache-c", 3), ("cache-d", 1)]),
    (10, [("n1", 1), ("n2", 1), ("n3", 5)]),
]


def md5_low32(data: bytes) -> int:
    return int.from_bytes(hashlib.md5(data).digest()[:4], "little")


def key_entry(key) -> dict:
    if isinstance(key, str):
        return {"type": "str", "value": key}
    if isinstance(key, bytes):
        return {"type": "bytes", "hex": key.hex()}
    return {"type": "int", "value": str(key)}


def key_bytes(key) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, bytes):
        return key
    return str(key % 2**64).encode("ascii")


def main() -> None:
    keys = KEYS + BYTES_KEYS + INT_KEYS
    vectors = {
        "dialect": "ketama",
        "key_hashes": [{"key": key_entry(k), "bytes": key_bytes(k).hex(),
                        "hash": f"{md5_low32(key_bytes(k)):#010x}"} for k in keys],
        "rings": [],
    }
    lookup_keys = [f"key-{i}" for i in range(40)] + KEYS
    for vnodes, nodes in RINGS:
        peer = uhashring.HashRing(
            nodes={name: {"weight": w, "vnodes": vnodes} for name, w in nodes}, hash_fn="ketama"
        )
        points = [[f"{p:#018x}", peer.runtime._ring[p]] for p in peer.runtime._keys]
        positions = {p for p in peer.runtime._keys}
        vectors["rings"].append({
            "vnodes": vnodes,
            "nodes": [[name, float(w)] for name, w in nodes],
            "points": points,
            "lookups": [{"key": key_entry(k), "node": peer.get_node(k)} for k in lookup_keys
                        if md5_low32(key_bytes(k)) not in positions],
        })
    print(json.dumps(vectors, ensure_ascii=False))


if __name__ == "__main__":
    main()
