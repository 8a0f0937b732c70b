"""Declares the compiled extension; everything else is in pyproject.toml.

RINGCORE_DEBUG=1 builds with bounds checks on and without optimisation.
RINGCORE_EXTRA_CFLAGS and RINGCORE_EXTRA_LDFLAGS (space-separated) are added
after the flags chosen here, e.g. for a sanitizer build
(scripts/check-sanitizers.sh).
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("RINGCORE_DEBUG") == "1"
msvc = sys.platform == "win32"
if msvc:
    flags = ["/Od", "/Zi"] if debug else ["/O2"]
else:
    # functions start on a cache line: where a hot loop falls against the
    # lines moved Arrow routing by a quarter (5.8 or 7.4 ns/key, Xeon) from
    # one unrelated change to the next
    flags = ["-O0", "-g", "-UNDEBUG"] if debug else ["-O3", "-falign-functions=64"]
flags += os.environ.get("RINGCORE_EXTRA_CFLAGS", "").split()



def extension(name: str, sources: list[str]) -> Extension:
    return Extension(
        f"ringcore.{name}",
        sources=[f"ringcore/{name}.pyx", *(f"ext/{c}" for c in sources)],
        include_dirs=["ext"],
        extra_compile_args=flags,
        extra_link_args=os.environ.get("RINGCORE_EXTRA_LDFLAGS", "").split(),
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )


# _keys: reading and hashing keys; _layout: the ring layout and its lookups.
modules = [
    extension("_keys", ["rc_keys.c", "rc_hash.c", "rc_md5.c", "rc_lanes.c"]),
    extension(
        "_layout",
        ["rc_keys.c", "rc_hash.c", "rc_md5.c", "rc_lanes.c", "rc_layout.c", "rc_lookup.c",
         "rc_jump.c"],
    ),
]

directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": debug,
    "cdivision": not debug,
    "embedsignature": True,
    "auto_pickle": False,
    "autotestdict": False,
}
setup(ext_modules=cythonize(modules, compiler_directives=directives))
