"""Shared pytest configuration: hypothesis profiles.

Pick a profile with the environment variable RINGCORE_HYPOTHESIS_PROFILE:

* ``ci`` (default): for every push (with the builds of the C check, about ten
  minutes on a 2-core machine).
* ``deep``: thousands of examples per property, for a nightly or manual run.
* ``tiny``: a handful of examples, for slow emulated (e.g. QEMU AArch64) runs.
"""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Make tests/strategies.py importable whatever pytest's import mode is.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("deep", max_examples=3000, **_COMMON)
settings.register_profile("tiny", max_examples=10, **_COMMON)

PROFILE = os.environ.get("RINGCORE_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "deep", "tiny"):
    raise RuntimeError(
        f"RINGCORE_HYPOTHESIS_PROFILE={PROFILE!r}: expected one of 'ci', 'deep', 'tiny'"
    )
settings.load_profile(PROFILE)


def pytest_report_header(config):
    return f"hypothesis profile: {PROFILE} (RINGCORE_HYPOTHESIS_PROFILE)"


def _implementations():
    import ringcore
    from ringcore import reference

    return [ringcore.HashRing, reference.HashRing]


# Both implementations of the ring, for tests that hold them to the same behaviour.
IMPLS = _implementations()
IMPL_IDS = ["core", "reference"]


@pytest.fixture(params=IMPLS, ids=IMPL_IDS)
def cls(request):
    """Each implementation of HashRing in turn."""
    return request.param


def _is_c_check(item) -> bool:
    return item.nodeid.split("::")[0].endswith("test_c_layout.py")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The C check runs last, so that its build (started below) overlaps the
    rest of the suite instead of being waited for."""
    items.sort(key=_is_c_check)  # stable: the order is otherwise kept


def pytest_collection_finish(session):
    """Start the minutes-long builds of the C check (tests/_c_check.py) in the
    background as soon as it is known to run."""
    import _c_check

    wanted = []
    for item in filter(_is_c_check, session.items):
        variant = item.nodeid.rsplit("[", 1)[-1].rstrip("]")
        if variant in _c_check.VARIANTS and _c_check.VARIANTS[variant] not in wanted:
            wanted.append(_c_check.VARIANTS[variant])
    _c_check.start(wanted)
