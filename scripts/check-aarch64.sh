#!/usr/bin/env bash
# Build ringcore and run its test suite on 64-bit ARM (aarch64) under qemu
# user-mode emulation, in a Debian bookworm arm64 root made with debootstrap.
#
# Needs root (apt-get, mount, debootstrap, chroot) and, the first time, about
# ten minutes to make the arm64 root; later runs reuse it and take a few
# minutes (the build and the tests run emulated, so the hypothesis tests use
# the small "tiny" profile).
#
#   scripts/check-aarch64.sh [PYTEST ARGS...]   e.g. -k "lanes or md5"
#
# Environment:
#   RINGCORE_ARM_ROOT    where the arm64 root is kept between runs
#                        (default: ~/.cache/ringcore-arm64-root)
#   RINGCORE_ARM_MIRROR  Debian mirror for debootstrap (default: the first
#                        bookworm mirror in this machine's apt sources)
#   RINGCORE_ARM_REBUILD=1  throw the cached root away and make it again
#   RINGCORE_ARM_PIP_NUMPY=1  test with the newest numpy wheel from PyPI
#                        instead of Debian's python3-numpy (1.24)
#
# Not run by .ci/run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/common.sh
. "$repo/scripts/common.sh"

suite=bookworm
root=${RINGCORE_ARM_ROOT:-$HOME/.cache/ringcore-arm64-root}
root=${root%/}
ready_marker=.ringcore-root-ready
packages=python3,python3-dev,python3-venv,python3-pip,python3-numpy,python3-pytest,python3-setuptools,cython3,gcc,libc6-dev,ca-certificates

die() { printf 'check-aarch64: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (apt-get, mount, debootstrap, chroot)"
case "$root" in
    "" | / | /root | /home | /tmp) die "RINGCORE_ARM_ROOT=$root: choose a directory of its own" ;;
esac

# --- 1. qemu-user-static + binfmt handler for aarch64 -----------------------
binfmt=/proc/sys/fs/binfmt_misc
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ! -e "$binfmt/register" ]; then
    log "mounting binfmt_misc"
    mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -e "$binfmt/qemu-aarch64" ]; then
    log "registering the qemu-aarch64 binfmt handler"
    update-binfmts --enable qemu-aarch64 || update-binfmts --import qemu-aarch64
fi
[ -e "$binfmt/qemu-aarch64" ] || die "no qemu-aarch64 binfmt handler in $binfmt"
grep -q '^enabled' "$binfmt/qemu-aarch64" || die "the qemu-aarch64 binfmt handler is disabled"

# --- 2. the Debian mirror apt on this machine uses ---------------------------
find_mirror() {
    # One-line sources (deb [opts] URI SUITE COMPONENTS...) and deb822
    # .sources paragraphs; the first "deb" entry that carries $suite itself
    # (not -updates / -security) wins.
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v want="$suite" '
            /^[[:space:]]*deb[[:space:]]/ {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == want) { print $i; exit }
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v want="$suite" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " want " "))
                    { split(uris, u, " "); print u[1]; found = 1 }
                types = ""; uris = ""; suites = ""; enabled = ""
            }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); if (found) exit; next }
            {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { if (!found) flush() }' "$f"
    done
}
mirror=${RINGCORE_ARM_MIRROR:-$(find_mirror | head -n 1)}
[ -n "$mirror" ] || die "no '$suite' mirror in /etc/apt/sources.list{,.d/}; set RINGCORE_ARM_MIRROR"

# --- 3. the arm64 root, made once and cached -------------------------------
mounted=()
work=""
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
    done
    if [ -n "$work" ]; then rm -rf "$root$work"; fi
    rm -rf "$root.partial"
}
trap cleanup EXIT

if [ "${RINGCORE_ARM_REBUILD:-0}" = 1 ] && [ -d "$root" ]; then
    log "RINGCORE_ARM_REBUILD=1: removing $root"
    rm -rf "$root"
fi
if [ ! -f "$root/$ready_marker" ]; then
    if [ -e "$root" ]; then
        die "$root exists but is not a finished root; remove it or set RINGCORE_ARM_REBUILD=1"
    fi
    log "debootstrap arm64 $suite from $mirror into $root (several minutes)"
    mkdir -p "$(dirname "$root")"
    rm -rf "$root.partial"
    start=$SECONDS
    debootstrap --arch=arm64 --variant=minbase --include="$packages" \
        "$suite" "$root.partial" "$mirror" > "$root.partial.log" 2>&1 \
        || { tail -n 30 "$root.partial.log" >&2; die "debootstrap failed (log: $root.partial.log)"; }
    rm -rf "$root.partial/var/cache/apt/archives/"*.deb
    touch "$root.partial/$ready_marker"
    mv "$root.partial" "$root"
    rm -f "$root.partial.log"
    echo "made the arm64 root in $((SECONDS - start)) s ($(du -sh "$root" | cut -f1))"
else
    log "reusing the arm64 root in $root"
fi

# Host CA certificates (this network may need them) and DNS, copied in fresh.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; mounted+=("$root/proc"); }
mkdir -p "$root/dev/shm"
mountpoint -q "$root/dev/shm" || { mount -t tmpfs shm "$root/dev/shm"; mounted+=("$root/dev/shm"); }
[ -c "$root/dev/null" ] || die "$root/dev/null is missing"

# --- 4. a copy of the checkout (tracked files and new, not-ignored ones) -----
work=/tmp/ringcore-check-$$
copy_tree "$root$work/src"

# --- 5. build and test inside the root, emulated -----------------------------
log "building and testing in the arm64 root (emulated; a few minutes)"
inside=$(cat <<'EOF'
set -euo pipefail
echo "uname -m: $(uname -m)"
python3 -c 'import platform, sys; print("python", sys.version.split()[0], platform.machine())'
python3 -m venv --system-site-packages "$WORK/venv"
py="$WORK/venv/bin/python"
# Debian's numpy (1.24) and pytest (7.2) are new enough; the rest from PyPI.
extra=()
if [ "$PIP_NUMPY" = 1 ]; then extra+=(--upgrade numpy); fi
"$py" -m pip install -q --disable-pip-version-check hypothesis xxhash "${extra[@]}"
start=$(date +%s)
"$py" -m pip install -q --disable-pip-version-check "$WORK/src"
echo "built and installed ringcore in $(( $(date +%s) - start )) s"
mkdir -p "$WORK/run"
cd "$WORK/run"
"$py" - <<'PY'
import numpy, platform, ringcore, ringcore._layout as core
print("ringcore from", ringcore.__file__)
print("compiled core", core.__file__, "numpy", numpy.__version__, platform.machine())
assert "/site-packages/" in ringcore.__file__, ringcore.__file__
PY
start=$(date +%s)
"$py" -m pytest "$WORK/src/tests" -p no:cacheprovider --basetemp "$WORK/pytest-tmp" "$@"
echo "tests took $(( $(date +%s) - start )) s"
EOF
)
chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    RINGCORE_HYPOTHESIS_PROFILE=tiny \
    WORK="$work" PIP_NUMPY="${RINGCORE_ARM_PIP_NUMPY:-0}" \
    /bin/bash -c "$inside" check-aarch64 "$@"
