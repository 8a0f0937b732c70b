"""The README's examples run and print what the README says they print."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
# a python block (no other block inside) followed by "prints" and its output
EXAMPLE = re.compile(r"```python\n((?:(?!```).)*?)```\n\nprints\n\n```\n(.*?)```", re.S)


def examples() -> list:
    return EXAMPLE.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples_with_output():
    assert len(examples()) >= 2


@pytest.mark.parametrize("code, output", examples(), ids=lambda v: v.split("\n")[0][:40])
def test_readme_example_prints_what_it_says(code, output, tmp_path):
    pytest.importorskip("pandas")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == output
