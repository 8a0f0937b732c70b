"""The type stubs of the compiled module match it, and the package type-checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ringcore


def test_stubtest_passes(tmp_path):
    pytest.importorskip("mypy")
    package_parent = str(Path(ringcore.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=package_parent, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ringcore"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _project_root() -> Path:
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").exists():
        pytest.skip("not run from a checkout")
    return root


def test_mypy_is_clean_with_the_project_settings(tmp_path):
    pytest.importorskip("mypy")
    root = _project_root()
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True,
                            cwd=root, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean_with_the_project_settings():
    pytest.importorskip("ruff")
    root = _project_root()
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "ringcore", "tests", "bench",
         "scripts"],
        capture_output=True, text=True, cwd=root, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_typing_markers():
    root = Path(ringcore.__file__).resolve().parent
    assert (root / "py.typed").exists()
    assert (root / "_keys.pyi").exists() and (root / "_layout.pyi").exists()


def test_all_names_exist():
    for name in ringcore.__all__:
        assert hasattr(ringcore, name), name
