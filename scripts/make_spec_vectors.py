"""Write docs/spec_vectors.json and the example tables of docs/SPEC.md.

Run from the repository root: python scripts/make_spec_vectors.py
The values come from ringcore.reference (hashes from the `xxhash` package).
"""

import json
import random
import re
from pathlib import Path

from ringcore import reference

ROOT = Path(__file__).resolve().parent.parent


def encode_key(key):
    if isinstance(key, str):
        return {"type": "str", "value": key}
    if isinstance(key, (bytes, bytearray)):
        return {"type": "bytes", "hex": bytes(key).hex()}
    return {"type": "int", "value": str(key)}


def key_entry(key):
    return {
        "key": encode_key(key),
        "bytes": reference.key_bytes(key).hex(),
        "hash": f"{reference.hash_key(key):#018x}",
    }


def ring_entry(nodes, vnodes, keys):
    ring = reference.HashRing(nodes, vnodes=vnodes)
    names = ring.nodes
    return {
        "vnodes": vnodes,
        "nodes": [[name, weight] for name, weight in ring.weights.items()],
        "points": [
            [f"{int(p):#018x}", names[o]] for p, o in zip(ring.positions, ring.owners)
        ],
        "ownership": {name: share.hex() for name, share in ring.ownership().items()},
        "lookups": [
            {
                "key": encode_key(key),
                "node": ring.get_node(key),
                "replicas": ring.get_nodes(key, len(names)),
            }
            for key in keys
        ],
    }


def main():
    rng = random.Random(20261124)
    sample_keys = [
        "", "a", "abc", "user:42", "héllo wörld", "鍵", "🔑 key", "x" * 17, "y" * 130,
        "z" * 241, "w" * 1000, b"", b"\x00", b"\xff\xfe\xfd", bytes(range(40)),
        0, 1, -1, 2**64 - 1, 2**63, -(2**63), 42, 255, 256, 2**32, 123456789012345,
    ]
    sample_keys += [rng.getrandbits(64) for _ in range(10)]
    sample_keys += ["".join(rng.choice("abcdefghij0123456789:/-") for _ in range(rng.randint(1, 300))) for _ in range(30)]
    points = [
        {"node": name, "j": j, "position": f"{reference.vnode_position(name, j):#018x}"}
        for name in ["a", "cache-a", "node-10", "nœud", "节点"]
        for j in (0, 1, 7, 10, 159, 999)
    ]
    lookup_keys = sample_keys[:26] + [f"key-{i}" for i in range(40)]
    rings = [
        ring_entry(["a"], 1, lookup_keys),
        ring_entry(["a", "b", "c"], 1, lookup_keys),
        ring_entry(["cache-a", "cache-b", "cache-c", "cache-d"], 16, lookup_keys),
        ring_entry({"big": 2.0, "small": 0.5, "mid": 1.0, "nœud": 1.25}, 40, lookup_keys),
        ring_entry({f"node-{i}": 1.0 for i in range(10)}, 160, lookup_keys),
    ]
    vectors = {
        "spec_version": 1,
        "key_hashes": [key_entry(k) for k in sample_keys],
        "points": points,
        "rings": rings,
    }
    (ROOT / "docs" / "spec_vectors.json").write_text(json.dumps(vectors, indent=1, ensure_ascii=False) + "\n")

    key_rows = "\n".join(
        f"| `{k!r}` | `{reference.key_bytes(k).hex() or '(empty)'}` | `{reference.hash_key(k):#018x}` |"
        for k in ["", "a", "user:42", "héllo wörld", b"\x00", 0, 1, -1, 2**64 - 1]
    )
    point_rows = "\n".join(
        f"| `{n}` | {j} | `{reference.vnode_position(n, j):#018x}` |"
        for n, j in [("a", 0), ("cache-a", 7), ("nœud", 159)]
    )
    spec = (ROOT / "docs" / "SPEC.md").read_text()
    spec = re.sub(r"(\| key \| bytes \(hex\) \| hash \|\n\| --- \| --- \| --- \|\n)(?:\|.*\n|KEY_TABLE\n)+",
                  lambda m: m.group(1) + key_rows + "\n", spec)
    spec = re.sub(r"(\| node \| j \| position \|\n\| --- \| --- \| --- \|\n)(?:\|.*\n|POINT_TABLE\n)+",
                  lambda m: m.group(1) + point_rows + "\n", spec)
    (ROOT / "docs" / "SPEC.md").write_text(spec)


if __name__ == "__main__":
    main()
