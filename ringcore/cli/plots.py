"""--plot: pictures of a ring's spread and of a migration plan (matplotlib,
the optional extra ``ringcore[cli]``)."""

from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np

from ._common import CliError, UsageError
from .outputs import Atomic

RING_SAMPLES = 4096  # angles at which the ring picture asks who owns the hash
FORMATS = ("png", "svg", "pdf")


def pyplot() -> Any:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        raise CliError("--plot needs matplotlib: pip install 'ringcore[cli]'") from None
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def check_plot_target(path: str, force: bool) -> None:
    """Fail before any work: no matplotlib, a format it cannot write, no
    folder, or a file in the way."""
    pyplot()
    if os.path.splitext(path)[1].lower().lstrip(".") not in FORMATS:
        raise UsageError(f"--plot {path}: name it .png, .svg or .pdf")
    Atomic(path, force).discard()


def save(fig: Any, path: str, force: bool = True) -> None:
    target = Atomic(path, force)
    try:
        fig.savefig(target.temp, format=os.path.splitext(path)[1].lower().lstrip("."),
                    dpi=110, bbox_inches="tight")
        target.commit()
    except BaseException:
        target.discard()
        raise
    finally:
        pyplot().close(fig)


def _colors(plt: Any, n: int) -> list:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20" if n <= 20 else "turbo")
    return [cmap(i if n <= 20 else i / max(n - 1, 1)) for i in range(n)]


def plot_stats(layout: Any, report: dict, path: str) -> None:
    """The ring (who owns each angle) beside bars of each node's share of
    the space and of the keys, over its weight share."""
    plt = pyplot()
    names = layout.nodes
    n = len(names)
    colors = _colors(plt, n)
    fig = plt.figure(figsize=(12, max(4.5, 0.28 * n + 2)))
    ring_ax = fig.add_subplot(1, 2, 1, projection="polar")
    size = layout.dialect.ring_size
    probes = (np.arange(RING_SAMPLES, dtype=np.float64) + 0.5) * (size / RING_SAMPLES)
    owners = layout.route_hashes(np.minimum(probes, size - 1).astype(np.uint64))
    width = 2 * np.pi / RING_SAMPLES
    theta = np.arange(RING_SAMPLES) * width
    ring_ax.bar(theta, np.ones(RING_SAMPLES), width=width, bottom=1.0, align="edge",
                color=[colors[i] for i in owners.tolist()], linewidth=0, antialiased=False)
    if n <= 20:
        from matplotlib.patches import Patch

        ring_ax.legend(handles=[Patch(color=colors[i], label=name) for i, name in enumerate(names)],
                       loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=8,
                       ncol=min(n, 4), frameon=False)
    ring_ax.set_ylim(0, 2.05)
    ring_ax.set_theta_zero_location("N")
    ring_ax.set_theta_direction(-1)
    ring_ax.set_axis_off()
    ring_ax.set_title(f"the ring: {n} nodes, {len(layout.positions):,} points\n"
                      "(owner of each hash, clockwise from the top)", fontsize=10)

    bar_ax = fig.add_subplot(1, 2, 2)
    nodes = report["nodes"]
    y = np.arange(n)
    keyed = "keys" in report["spread"]
    height = 0.4 if keyed else 0.7
    owned = [e["ownership_over_share"] for e in nodes]
    bar_ax.barh(y - (height / 2 if keyed else 0), owned, height=height, color=colors,
                label="hash space owned / weight share")
    if keyed:
        loads = [e["keys_over_share"] for e in nodes]
        bar_ax.barh(y + height / 2, loads, height=height, color=colors, alpha=0.5,
                    hatch="//", label=f"keys ({report['spread']['keys']:,}) / weight share")
    bar_ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--", label="even (1.0)")
    bar_ax.set_yticks(y, labels=names, fontsize=8 if n > 20 else 10)
    bar_ax.invert_yaxis()
    bar_ax.set_xlabel("share over weight share (1.0 = exactly its weight's share)")
    bar_ax.set_title("spread per node", fontsize=10)
    bar_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, ncol=3,
                  frameon=False)
    fig.tight_layout()
    save(fig, path)


def plot_plan(plan: Any, report: dict, path: str) -> None:
    """The transfer matrix (share of the hash space from each old node to
    each new node) as a heat map."""
    plt = pyplot()
    old, new = plan.old.nodes, plan.new.nodes
    matrix = np.array(report["transfer_matrix"], dtype=np.float64).reshape(len(old), len(new))
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(new) + 3), max(4, 0.4 * len(old) + 2)))
    shown = np.where(matrix > 0, matrix * 100, np.nan)
    image = ax.imshow(shown, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax, label="% of the hash space moving")
    ax.set_xticks(np.arange(len(new)), labels=new, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(old)), labels=old)
    ax.set_xlabel("new node")
    ax.set_ylabel("old node")
    if len(old) * len(new) <= 400:
        for (i, j), value in np.ndenumerate(matrix):
            if value > 0:
                ax.text(j, i, f"{100 * value:.1f}", ha="center", va="center", fontsize=8,
                        color="white")
    ax.set_title(f"moving: {100 * report['moved_fraction']:.2f}% of the hash space", fontsize=10)
    fig.tight_layout()
    save(fig, path)
