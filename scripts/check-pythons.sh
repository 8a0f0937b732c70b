#!/usr/bin/env bash
# Run ringcore's test suite on every CPython 3.10-3.13 this machine has, each
# in a fresh venv that installs ringcore (with the `test` extra) from a clean
# copy of the checkout, plus one run on the oldest Python with the oldest
# numpy ringcore supports.
#
# Interpreters: pyenv's ($PYENV_ROOT/versions/3.1[0-3].*, default ~/.pyenv)
# and /usr/bin, /usr/local/bin python3.1[0-3]; free-threaded builds and
# duplicates are skipped.
#
# Environment:
#   RINGCORE_PYTHONS       space-separated interpreters to use instead
#   RINGCORE_OLDEST_NUMPY  numpy version for the oldest-numpy run (default 1.22.0)
#   PYTEST_ADDOPTS         passed through to pytest as usual
#
# Exits non-zero if any run fails (the others still run). Not run by .ci/run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/common.sh
. "$repo/scripts/common.sh"

oldest_numpy=${RINGCORE_OLDEST_NUMPY:-1.22.0}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcore-check-pythons.XXXXXX")
trap 'rm -rf "$tmp"' EXIT



# Print "VERSION" for a usable CPython 3.10-3.13 with the GIL, else nothing.
probe() {
    "$1" - 2>/dev/null <<'PY' || true
import platform, sys, sysconfig
ok = (platform.python_implementation() == "CPython"
      and (3, 10) <= sys.version_info[:2] <= (3, 13)
      and not sysconfig.get_config_var("Py_GIL_DISABLED"))
if ok:
    import ensurepip, venv  # a venv with pip must be possible
    print(platform.python_version())
PY
}

# --- the interpreters --------------------------------------------------------
if [ -n "${RINGCORE_PYTHONS:-}" ]; then
    read -r -a candidates <<< "$RINGCORE_PYTHONS"
else
    candidates=()
    shopt -s nullglob
    for d in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[0-3].*; do
        candidates+=("$d/bin/python3")
    done
    for p in /usr/bin/python3.1[0-3] /usr/local/bin/python3.1[0-3]; do
        candidates+=("$p")
    done
    shopt -u nullglob
fi
pythons=() versions=() seen=" "
for p in "${candidates[@]}"; do
    [ -x "$p" ] || continue
    real=$(readlink -f "$p")
    case "$seen" in *" $real "*) continue ;; esac
    seen+="$real "
    v=$(probe "$p")
    if [ -z "$v" ]; then
        echo "skipping $p (not a CPython 3.10-3.13 with the GIL and venv)"
        continue
    fi
    pythons+=("$p") versions+=("$v")
done
[ ${#pythons[@]} -gt 0 ] || { echo "no CPython 3.10-3.13 found" >&2; exit 1; }

# Oldest Python first, so the oldest-numpy run uses it.
order=$(for i in "${!pythons[@]}"; do echo "${versions[i]} $i"; done | sort -V | awk '{print $2}')

log "interpreters"
for i in $order; do echo "  ${versions[i]}  ${pythons[i]}"; done

copy_tree "$tmp/src"
mkdir -p "$tmp/run"
cp -r "$repo/tests" "$tmp/run/tests"
mkdir -p "$tmp/run/docs"
cp "$repo/docs/spec_vectors.json" "$tmp/run/docs/"

# check_one NAME PYTHON [extra pip requirements...]
check_one() {
    local name=$1 py=$2 venv start
    shift 2
    venv="$tmp/venv-$name"
    start=$SECONDS
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$tmp/src[test]" "$@" \
        > "$tmp/pip-$name.log" 2>&1 || { tail -n 30 "$tmp/pip-$name.log" >&2; return 1; }
    cd "$tmp/run"
    "$venv/bin/python" - <<'PY'
import os, sys
from importlib.metadata import PackageNotFoundError, version
import ringcore
where = os.path.dirname(ringcore.__file__)
assert os.path.commonpath([where, sys.prefix]) == sys.prefix, where
print(f"Python {sys.version.split()[0]}, ringcore from {where}")
found = []
for name in ("numpy", "xxhash", "hypothesis", "pytest", "pyarrow", "pandas", "polars",
             "matplotlib", "mypy"):
    try:
        found.append(f"{name} {version(name)}")
    except PackageNotFoundError:
        found.append(f"{name} -")
print("with", ", ".join(found))
PY
    "$venv/bin/python" -m pytest tests -ra -p no:cacheprovider --basetemp "$tmp/pytest-tmp-$name" 2>&1 | tee "$tmp/pytest-$name.log"
    echo "($((SECONDS - start)) s including the install)"
}

results=() failed=0
run() {
    local label=$1 rc
    shift
    log "$label"
    set +e
    (set -e; check_one "$@")
    rc=$?
    set -e
    local name=$1 last="(no pytest summary)" np
    [ -f "$tmp/pytest-$name.log" ] && last=$(tail -n 1 "$tmp/pytest-$name.log" | tr -d '=' | sed 's/^ *//; s/ *$//')
    np=$("$tmp/venv-$name/bin/python" -c 'import numpy; print(numpy.__version__)' 2>/dev/null || echo '?')
    if [ $rc -eq 0 ]; then
        results+=("ok    $label (numpy $np): $last")
    else
        results+=("FAIL  $label (numpy $np): $last")
        failed=1
    fi
}

for i in $order; do
    run "CPython ${versions[i]} (${pythons[i]})" "py${versions[i]}-$i" "${pythons[i]}"
done
first=$(echo "$order" | head -n 1)
run "CPython ${versions[first]} with the oldest numpy, $oldest_numpy" \
    "oldest-numpy" "${pythons[first]}" "numpy==$oldest_numpy"

log "summary"
printf '%s\n' "${results[@]}"
exit $failed
