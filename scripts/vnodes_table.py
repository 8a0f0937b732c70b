"""The README's vnodes table: load spread and memory against vnodes, for
100 nodes and 1,000,000 random uint64 keys (run: python scripts/vnodes_table.py)."""

import numpy as np

import ringcore


def main() -> None:
    keys = np.random.default_rng(0).integers(0, 2**64, 1_000_000, dtype=np.uint64)
    names = [f"node-{i:03d}" for i in range(100)]
    print("| vnodes | points | max/mean load | stdev/mean load | max/mean ownership | memory |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for vnodes in (16, 32, 64, 128, 160, 256, 512, 1024):
        ring = ringcore.HashRing(names, vnodes=vnodes)
        load = ring.load(keys)
        shares = np.array(list(ring.ownership().values())) * len(names)
        print(f"| {vnodes} | {len(ring.positions):,} | {load.max_over_mean:.3f} "
              f"| {load.stdev_over_mean:.3f} | {shares.max():.3f} "
              f"| {ring.layout.memory_bytes / 1024:,.0f} KiB |")


if __name__ == "__main__":
    main()
