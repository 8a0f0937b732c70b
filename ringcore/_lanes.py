"""The multi-buffer kernels (ext/rc_lanes.h) that hash MD5 and OAAT keys side
by side: which ones this CPU runs, and forcing one (for tests)."""

from __future__ import annotations

from . import _keys, _layout

NAMES = ("scalar", "base", "avx2", "avx512")
# each extension module links its own copy of the C, with its own choice
_MODULES = (_keys, _layout)


def lane_kernels(force: str | None = None) -> tuple[tuple[str, ...], str]:
    """The kernels this build can run on this CPU ("scalar", "base" for SSE2 or
    NEON, "avx2", "avx512") and the one the batches use. force= one of them
    makes every later batch of every module use it (not thread-safe: call it
    while no batch runs), "auto" the best again."""
    kinds = set.intersection(*(set(module._lanes_state()[0]) for module in _MODULES))
    available = tuple(NAMES[k] for k in sorted(kinds))
    if force is not None:
        if force != "auto" and force not in available:
            raise ValueError(f"lane kernel {force!r} is not available here "
                             f"(available: {', '.join(available)})")
        kind = -1 if force == "auto" else NAMES.index(force)
        for done, module in enumerate(_MODULES):
            if not module._lanes_force(kind):
                for forced in _MODULES[:done]:  # back to one choice for all
                    forced._lanes_force(-1)
                raise ValueError(f"lane kernel {force!r} is not available in {module.__name__}")
    levels = {module._lanes_state()[1] for module in _MODULES}
    if len(levels) != 1:
        raise RuntimeError(f"the extension modules run different lane kernels: {sorted(levels)}")
    return available, NAMES[levels.pop()]
