#!/usr/bin/env bash
# Run ringcore's test suite and fuzz harnesses against a build of the compiled
# core instrumented with gcc's AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   1. a clean copy of the checkout goes into a temporary directory (removed
#      on exit); a fresh venv installs it with the `test` extra, built with
#      RINGCORE_DEBUG=1 (Cython bounds checks, C asserts) plus the sanitizer
#      flags below, passed through setup.py's RINGCORE_EXTRA_CFLAGS/LDFLAGS;
#   2. the tests run from a scratch directory (so `import ringcore` is the
#      sanitized build in the venv) with gcc's libasan preloaded;
#   3. each fuzz/fuzz_*.py harness runs for FUZZ_SECONDS under the same
#      preload (skipped when the checkout has no fuzz/);
#   4. a summary: build flags, tests passed/failed, each fuzzer's runs.
#
# Any sanitizer report (AddressSanitizer, UBSan "runtime error:", an ASan
# CHECK failure) or any failing test or harness makes the exit status
# non-zero. Reports are caught twice: the runtime aborts the process, and the
# logs and report files are searched for them afterwards.
#
#   scripts/check-sanitizers.sh [PYTEST ARGS...]   e.g. -k route, -x
#   scripts/check-sanitizers.sh --self-test        prove that the check fails
#
# --self-test injects two deliberate bugs into the temporary copy's C (an
# out-of-bounds read one element past the end of an int64 batch, and a
# signed overflow), builds it, and checks that each trips its sanitizer and
# this script's detection, inside pytest too, while a clean run passes. It
# exits 0 when every injected bug was caught.
#
# Fuzz harnesses run with RINGCORE_FUZZ_NO_ATHERIS=1 (their plain random
# driver): atheris's libFuzzer takes its coverage callbacks from gcc's
# preloaded libasan, which stubs them out, so it fuzzes blind ("no
# interesting inputs were found"). A stub `atheris` package that fails to
# import is also put first on PYTHONPATH, in case a harness does not honour
# the variable.
#
# Environment:
#   PYTHON                      interpreter for the venv (default: python3)
#   FUZZ_SECONDS                seconds per fuzz harness (default 60; 0 skips them)
#   RINGCORE_SAN_DEBUG          1 (default): RINGCORE_DEBUG=1 build (Cython
#                               boundscheck/wraparound on, C asserts on);
#                               0: the release Cython directives, same
#                               sanitizer flags
#   RINGCORE_SAN_KEEP           1: keep the temporary directory (logs, venv,
#                               fuzzer crash files) and print its path
#   RINGCORE_HYPOTHESIS_PROFILE passed through (default ci)
#   PYTEST_ADDOPTS              passed through to pytest as usual
#
# Needs gcc (with libasan and libubsan) on Linux. A few minutes: about 1 min
# to build, 2 to 3 min of tests, FUZZ_SECONDS per harness.
# Not run by .ci/run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/common.sh
. "$repo/scripts/common.sh"

die() { printf 'check-sanitizers: %s\n' "$*" >&2; exit 1; }

self_test=0
if [ "${1:-}" = "--self-test" ]; then
    self_test=1
    shift
    [ $# -eq 0 ] || die "--self-test takes no other arguments"
elif [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi

python=${PYTHON:-python3}
fuzz_seconds=${FUZZ_SECONDS:-60}
san_debug=${RINGCORE_SAN_DEBUG:-1}
case "$fuzz_seconds" in '' | *[!0-9]*) die "FUZZ_SECONDS must be a whole number of seconds" ;; esac
case "$san_debug" in 0 | 1) ;; *) die "RINGCORE_SAN_DEBUG must be 0 or 1" ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcore-check-sanitizers.XXXXXX")
if [ "${RINGCORE_SAN_KEEP:-0}" = 1 ]; then
    trap 'echo "kept $tmp"' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi
started=$SECONDS

# --- the toolchain and the sanitizer runtime ---------------------------------
command -v gcc >/dev/null || die "gcc not found"
"$python" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' \
    || die "$python is older than 3.10"
# shared_lib NAME: the real path of gcc's NAME, or die.
shared_lib() {
    local p
    p=$(gcc -print-file-name="$1")
    [ "$p" != "$1" ] && [ -e "$p" ] || die "gcc has no $1 (install gcc's sanitizer runtimes)"
    readlink -f "$p"
}
libasan=$(shared_lib libasan.so)
shared_lib libubsan.so >/dev/null   # the build links it; it loads as a dependency
# libstdc++ is preloaded after libasan: ASan wraps __cxa_throw and looks up
# the real one when it starts; python3 itself does not link libstdc++, so
# without it the first C++ exception (matplotlib's ft2font raises one on
# import) dies with "CHECK failed: asan_interceptors.cpp ... real___cxa_throw".
# gcc 12's libasan has no option to turn that interceptor off.
libstdcxx=$(shared_lib libstdc++.so.6)

# The build: the usual ASan + UBSan set. -fno-wrapv undoes the -fwrapv that
# CPython's own CFLAGS pass to every extension: under -fwrapv signed overflow
# is defined and UBSan cannot see it (the C must not rely on it: MSVC builds
# the wheels for Windows without it).
san_flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -fno-var-tracking -O1 -fno-wrapv"

# Runtime options, one reason each:
#   detect_leaks=0             CPython does not free everything at exit
#   halt_on_error=1            stop at the first report (the default for ASan;
#                              said anyway, and needed for UBSan checks built
#                              as recoverable)
#   abort_on_error=1           abort() rather than _exit(1), so pytest's
#                              faulthandler prints the Python stack (the test)
#   allocator_may_return_null=1  a failed or absurd malloc returns NULL (so
#                              Python raises MemoryError, as without ASan)
#                              rather than killing the process; a NULL the C
#                              does not check still shows up as a SEGV report
#   detect_stack_use_after_return=1  also catch pointers to dead stack frames
#                              (gcc 12 builds the runtime check in by default)
#   log_path=...               ASan reports go to files, one per process:
#                              tests that spawn Python capture its stderr.
#                              UBSan ignores it here (libubsan's call to set
#                              the path binds to the preloaded libasan's) and
#                              writes to stderr, so pytest runs with
#                              --capture=sys: with its default fd capture, what
#                              a test writes to fd 2 is lost when it aborts
#   print_stacktrace=1         (UBSan) a stack trace with each runtime error
# Not needed, checked on this machine: detect_odr_violation=0 (only ringcore
# is instrumented, so no global is registered twice), verify_asan_link_order=0
# (libasan is preloaded, so it always comes first), any option for numpy,
# pyarrow, pandas or polars (they import and run cleanly with the above).
asan_common="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1"
asan_common+=":detect_stack_use_after_return=1"
ubsan_common="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
report_re='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|Sanitizer: CHECK failed|: runtime error: |SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)'

venv=$tmp/venv
py=$venv/bin/python
logs=$tmp/logs
mkdir -p "$logs"

# A stub package that hides a real atheris (see the header).
mkdir -p "$tmp/no-atheris/atheris"
echo 'raise ImportError("atheris is hidden by check-sanitizers.sh")' \
    > "$tmp/no-atheris/atheris/__init__.py"

# build SRC EXTRA: a fresh venv with SRC installed (pip requirement SRC EXTRA),
# the core built with the sanitizers.
build() {
    local src=$1 extra=$2 so start=$SECONDS
    log "venv ($python) and a sanitized build of $(basename "$src") (about a minute)"
    "$python" -m venv "$venv"
    local debug_env=()
    [ "$san_debug" = 1 ] && debug_env=(RINGCORE_DEBUG=1)
    env "${debug_env[@]}" RINGCORE_EXTRA_CFLAGS="$san_flags" RINGCORE_EXTRA_LDFLAGS="$san_flags" \
        "$py" -m pip install -v --disable-pip-version-check "$src$extra" "${@:3}" \
        > "$logs/pip.log" 2>&1 || { tail -n 40 "$logs/pip.log" >&2; die "pip install failed"; }
    # The flags must have reached the compiler and the linker.
    grep -q -e "-c ext/rc_keys.c .*-fsanitize=address,undefined" "$logs/pip.log" \
        || die "the build did not pass the sanitizer flags to gcc (does setup.py honour RINGCORE_EXTRA_CFLAGS?)"
    # (Not imported here: without the preload the instrumented core does not load.)
    so=$(ls "$("$py" -I -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"/ringcore/_layout*.so \
        2>/dev/null | head -n 1) || true
    [ -n "$so" ] || die "no ringcore/_layout*.so in the venv"
    readelf -d "$so" | grep -q 'libasan\.so' \
        || die "$so is not linked with libasan (does setup.py honour RINGCORE_EXTRA_LDFLAGS?)"
    echo "built $(basename "$so") in $((SECONDS - start)) s: $san_flags"
}

# sanitized LABEL FILTER CMD...: run CMD with the sanitizer runtime preloaded,
# its output to $logs/LABEL.log and (through FILTER, a command) the console,
# its report files to $logs/LABEL.san/. Sets run_rc (CMD's exit status),
# run_reports (reports found in the output and report files) and
# run_first (the first report line).
sanitized() {
    local label=$1 filter=$2
    shift 2
    local out=$logs/$label.log san=$logs/$label.san
    mkdir -p "$san"
    set +e
    env LD_PRELOAD="$libasan $libstdcxx" PYTHONMALLOC=malloc \
        ASAN_OPTIONS="$asan_common:log_path=$san/asan" \
        UBSAN_OPTIONS="$ubsan_common:log_path=$san/ubsan" \
        "$@" 2>&1 | tee "$out" | $filter
    run_rc=${PIPESTATUS[0]}
    set -e
    # The second net: search the output and every report file.
    local files=("$out")
    shopt -s nullglob
    files+=("$san"/*)
    shopt -u nullglob
    run_reports=$(cat "${files[@]}" | grep -c -E "$report_re" || true)
    run_first=$(cat "${files[@]}" | grep -m 1 -E "$report_re" | sed 's/^==[0-9]*==//' || true)
    if [ "$run_reports" -gt 0 ]; then
        local f
        for f in "${files[@]:1}"; do
            printf '\n--- sanitizer report %s (first 30 lines)\n' "${f#"$tmp"/}"
            head -n 30 "$f"
        done
    fi
}

quiet_passes() { grep --line-buffered -v -E ' PASSED +\[ *[0-9]+%\]$' || true; }
everything() { cat; }

# A scratch directory with what the tests read, and no ringcore/ in it.
make_run_dir() {
    local src=$1
    mkdir -p "$tmp/run/docs"
    cp -r "$src/tests" "$tmp/run/tests"
    cp "$src"/docs/*.json "$tmp/run/docs/"
    cp "$src/README.md" "$tmp/run/"
    cp -r "$src/docs/examples" "$tmp/run/docs/examples"
    if [ -d "$src/fuzz" ]; then cp -r "$src/fuzz" "$tmp/run/fuzz"; fi
    (
        cd "$tmp/run"
        env LD_PRELOAD="$libasan $libstdcxx" PYTHONMALLOC=malloc \
            ASAN_OPTIONS="$asan_common" UBSAN_OPTIONS="$ubsan_common" "$py" - <<'PY'
import os, sys
from importlib.metadata import PackageNotFoundError, version
import ringcore, ringcore._keys, ringcore._layout
where = os.path.dirname(ringcore.__file__)
assert os.path.commonpath([where, sys.prefix]) == sys.prefix, f"ringcore from {where}"
print(f"Python {sys.version.split()[0]}, ringcore from {where}")
found = []
for name in ("numpy", "pyarrow", "pandas", "polars", "hypothesis", "pytest"):
    try:
        found.append(f"{name} {version(name)}")
    except PackageNotFoundError:
        pass
print("with", ", ".join(found))
PY
    )
}

# ============================================================================
# --self-test
# ============================================================================
if [ $self_test = 1 ]; then
    log "self-test: a copy with deliberate bugs in ext/rc_keys.c"
    copy_tree "$tmp/src"
    kernel=$tmp/src/ext/rc_keys.c
    grep -q '^rc_status rc_keys_route(' "$kernel" || die "ext/rc_keys.c defines no rc_keys_route"
    # The real rc_keys_route is renamed; a wrapper with the bugs takes its
    # name. The bugs fire only when RINGCORE_SELFTEST_BUG says so, for an
    # int64 batch routed to its end, so one build serves every case.
    {
        echo '#define rc_keys_route rc_keys_route_unbroken  /* check-sanitizers --self-test */'
        cat "$kernel"
        cat <<'C'

/* ---- check-sanitizers.sh --self-test: deliberate bugs ---------------------- */
#undef rc_keys_route
#include <stdlib.h>

rc_status rc_keys_route(const rc_ring *ring, const rc_keys *k, size_t start, size_t stop,
                        int32_t *out, int allow_nulls, int32_t null_owner, size_t *bad,
                        uint8_t *scratch)
{
    const char *bug = getenv("RINGCORE_SELFTEST_BUG");
    if (bug != NULL && k->kind == RC_KEYS_INT && k->width == 8 && stop > start
        && stop == k->n) {
        if (strcmp(bug, "oob") == 0) {
            /* read key `stop`: one element past the end of the batch */
            const volatile int64_t *past =
                (const volatile int64_t *)(const void *)(k->base + (ptrdiff_t)stop * k->stride);
            volatile int64_t sink = *past;
            (void)sink;
        } else if (strcmp(bug, "ub") == 0) {
            /* count the keys in an int32 starting from INT32_MAX: signed overflow */
            volatile int32_t first = INT32_MAX;
            volatile int32_t last = first + (int32_t)(stop - start);
            (void)last;
        }
    }
    return rc_keys_route_unbroken(ring, k, start, stop, out, allow_nulls, null_owner, bad,
                                  scratch);
}
C
    } > "$kernel.new"
    mv "$kernel.new" "$kernel"

    build "$tmp/src" "" pytest
    make_run_dir "$tmp/src"
    cat > "$tmp/run/repro.py" <<'PY'
import numpy as np
import ringcore
ring = ringcore.HashRing(["a", "b", "c"])
owners = ring.route(np.arange(1000, dtype=np.int64), threads=1)
print("routed", owners.shape[0], "keys")
PY
    # A parent that forks the reproducer (as the fuzz driver does) and exits 0
    # whatever the child did: only the report files can tell.
    cat > "$tmp/run/fork_repro.py" <<'PY'
import os
pid = os.fork()
if pid == 0:
    import runpy
    runpy.run_path("repro.py")
    os._exit(0)
os.waitpid(pid, 0)
print("parent: exiting 0 whatever the child did")
PY
    cat > "$tmp/run/test_repro.py" <<'PY'
import numpy as np
import ringcore

def test_route_an_int64_batch():
    ring = ringcore.HashRing(["a", "b", "c"])
    assert ring.route(np.arange(1000, dtype=np.int64), threads=1).shape == (1000,)
PY

    results=() failed=0
    # expect LABEL WANT PATTERN BUG CMD...: run CMD with RINGCORE_SELFTEST_BUG=BUG;
    # WANT=clean: it must pass with no report; WANT=caught: it must fail and
    # the first report must match PATTERN.
    expect() {
        local label=$1 want=$2 pattern=$3 bug=$4 verdict
        shift 4
        log "self-test $label (RINGCORE_SELFTEST_BUG=${bug:-unset})"
        cd "$tmp/run"
        sanitized "selftest-$label" everything env RINGCORE_SELFTEST_BUG="$bug" "$@"
        cd "$repo"
        if [ "$run_rc" -ne 0 ] || [ "$run_reports" -gt 0 ]; then verdict=caught; else verdict=clean; fi
        if [ "$verdict" = "$want" ] && { [ "$want" = clean ] || grep -q -E "$pattern" <<< "$run_first"; }; then
            results+=("ok    $label: $verdict as expected (exit $run_rc, $run_reports report lines)${run_first:+: $run_first}")
        else
            results+=("FAIL  $label: wanted $want, got $verdict (exit $run_rc, $run_reports report lines)${run_first:+: $run_first}")
            failed=1
        fi
    }
    expect control clean '' "" "$py" repro.py
    expect oob caught 'AddressSanitizer: heap-buffer-overflow' oob "$py" repro.py
    expect ub caught 'runtime error: signed integer overflow' ub "$py" repro.py
    expect oob-in-forked-child caught 'AddressSanitizer: heap-buffer-overflow' oob \
        "$py" fork_repro.py
    expect oob-in-pytest caught 'AddressSanitizer: heap-buffer-overflow' oob \
        "$py" -m pytest test_repro.py -q -p no:cacheprovider --capture=sys
    expect ub-in-pytest caught 'runtime error: signed integer overflow' ub \
        "$py" -m pytest test_repro.py -q -p no:cacheprovider --capture=sys

    log "self-test summary ($((SECONDS - started)) s)"
    echo "build: $san_flags"
    printf '%s\n' "${results[@]}"
    if [ $failed = 0 ]; then
        echo "self-test passed: every injected bug failed the run, the clean run passed"
    else
        echo "self-test FAILED: the check would miss a bug (or flags a clean run)"
    fi
    exit $failed
fi

# ============================================================================
# the tests and the fuzz harnesses
# ============================================================================
log "a clean copy of the checkout"
copy_tree "$tmp/src"
build "$tmp/src" "[test]"
make_run_dir "$tmp/src"

failed=0 lines=()

log "the tests under ASan + UBSan (2 to 3 minutes; passing tests are not listed)"
start=$SECONDS
cd "$tmp/run"
# --capture=sys: see log_path above.
sanitized pytest quiet_passes "$py" -m pytest tests -v -p no:cacheprovider --capture=sys \
    --basetemp "$tmp/pytest-tmp" "$@"
cd "$repo"
tests_time=$((SECONDS - start))
last=$(grep -E '^=+ .*(passed|failed|error|no tests ran).* =+$' "$logs/pytest.log" | tail -n 1 \
    | tr -d '=' | sed 's/^ *//; s/ *$//' || true)
if [ "$run_rc" -eq 0 ] && [ "$run_reports" -eq 0 ]; then
    lines+=("ok    tests: $last")
else
    failed=1
    if [ -z "$last" ]; then
        # No pytest summary: the process died. The last test it started is
        # the last "nodeid" line without a result.
        crashed=$(grep -E '^tests/[^ ]+::' "$logs/pytest.log" \
            | grep -v -E ' (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)( |$)' | tail -n 1 | cut -d' ' -f1 || true)
        last="died (exit $run_rc) in ${crashed:-?} after $(grep -c ' PASSED ' "$logs/pytest.log" || true) passed"
    fi
    lines+=("FAIL  tests: $last (exit $run_rc)")
    [ "$run_reports" -eq 0 ] || lines+=("      first report: $run_first")
fi

fuzz_note=""
shopt -s nullglob
harnesses=("$tmp/run"/fuzz/fuzz_*.py)
shopt -u nullglob
if [ "$fuzz_seconds" = 0 ]; then
    fuzz_note="fuzz: skipped (FUZZ_SECONDS=0)"
elif [ ${#harnesses[@]} -eq 0 ]; then
    fuzz_note="fuzz: skipped (no fuzz/fuzz_*.py in the checkout)"
    log "$fuzz_note"
else
    fuzz_note="fuzz: ${#harnesses[@]} harness(es), ${fuzz_seconds} s each, RINGCORE_FUZZ_NO_ATHERIS=1 (plain random driver)"
    for h in "${harnesses[@]}"; do
        name=$(basename "$h" .py)
        log "$name for $fuzz_seconds s under ASan + UBSan"
        cd "$tmp/run"
        start=$SECONDS
        # The harness gets FUZZ_SECONDS plus time to start (ASan makes
        # imports slower); past that it is stopped and counts as a failure.
        sanitized "$name" everything timeout --kill-after=30 $((fuzz_seconds + 300)) \
            env RINGCORE_FUZZ_NO_ATHERIS=1 PYTHONPATH="$tmp/no-atheris${PYTHONPATH:+:$PYTHONPATH}" \
            "$py" "fuzz/$name.py" -max_total_time="$fuzz_seconds"
        cd "$repo"
        took=$((SECONDS - start))
        # Runs: libFuzzer's "Done N runs", else a count the driver printed.
        runs=$(grep -o -E '(Done [0-9]+ runs|[0-9][0-9,_]* (runs|inputs|iterations|executions|examples)\b|runs[=:] *[0-9][0-9,_]*)' \
            "$logs/$name.log" | tail -n 1 | grep -o -E '[0-9][0-9,_]*' | head -n 1 || true)
        tail_line=$(grep -v '^[[:space:]]*$' "$logs/$name.log" | tail -n 1 | cut -c1-60 || true)
        if [ "$run_rc" -eq 0 ] && [ "$run_reports" -eq 0 ]; then
            lines+=("ok    $name: ${runs:-?} runs in $took s ($tail_line)")
        else
            failed=1
            why="exit $run_rc"
            [ "$run_rc" -eq 124 ] && why="timed out"
            lines+=("FAIL  $name: $why after $took s, ${runs:-?} runs")
            [ "$run_reports" -eq 0 ] || lines+=("      first report: $run_first")
        fi
    done
fi

log "summary ($((SECONDS - started)) s in all, tests $tests_time s)"
echo "python:  $("$py" -c 'import platform; print(platform.python_version())') ($python), $(gcc --version | head -n 1)"
echo "build:   $([ "$san_debug" = 1 ] && echo "RINGCORE_DEBUG=1 (Cython boundscheck, C asserts) + ")$san_flags"
echo "preload: $libasan $libstdcxx"
echo "ASAN_OPTIONS=$asan_common"
echo "UBSAN_OPTIONS=$ubsan_common"
echo "hypothesis profile: ${RINGCORE_HYPOTHESIS_PROFILE:-ci}"
printf '%s\n' "${lines[@]}"
[ -z "$fuzz_note" ] || echo "$fuzz_note"
if [ $failed = 0 ]; then
    echo "result: PASS (no sanitizer report, no failure)"
else
    echo "result: FAIL (logs, report files and fuzzer crash inputs: rerun with RINGCORE_SAN_KEEP=1)"
fi
exit $failed
