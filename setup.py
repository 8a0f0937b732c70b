"""Declares the compiled extension; everything else is in pyproject.toml.

RINGCORE_DEBUG=1 builds with bounds checks on and without optimisation.
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
    flags = ["-O0", "-g", "-UNDEBUG"] if debug else ["-O3"]

core = Extension(
    "ringcore._core",
    sources=["ringcore/_core.pyx", "ext/rc_ring.c", "ext/rc_keys.c"],
    include_dirs=["ext"],
    extra_compile_args=flags,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": debug,
    "cdivision": not debug,
    "embedsignature": True,
    "auto_pickle": False,
    "autotestdict": False,
}
setup(ext_modules=cythonize([core], compiler_directives=directives))
