"""The README's examples run and print what the README says they print."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
if not README.exists():  # the tests copied out of a checkout, without the README
    pytest.skip("no README.md beside tests/", allow_module_level=True)
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


# a console block: "$ command" lines, each followed by what it prints
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)


def console_sessions() -> list:
    return CONSOLE.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_command_line_sessions():
    assert len(console_sessions()) >= 4


def test_readme_command_line_sessions_print_what_they_say(tmp_path):
    """Every `$ ringcore ...` of the README, run in order in one folder holding
    docs/examples, prints exactly the lines shown under it."""
    import os
    import shutil

    pytest.importorskip("pyarrow")
    script = shutil.which("ringcore", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the ringcore console script is not installed")
    examples_dir = README.parent / "docs" / "examples"
    if not examples_dir.is_dir():
        pytest.skip("no docs/examples beside the README")
    for example in examples_dir.iterdir():
        shutil.copy(example, tmp_path)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    for session in console_sessions():
        steps = re.split(r"^\$ ", session, flags=re.M)[1:]
        for step in steps:
            command, _, expected = step.partition("\n")
            done = subprocess.run(command, shell=True, capture_output=True, text=True,
                                  cwd=tmp_path, env=env, timeout=300)
            assert done.returncode == 0, (command, done.stderr)
            assert done.stdout == expected, command
