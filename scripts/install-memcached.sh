#!/usr/bin/env bash
# Installs Debian's memcached when it is missing (the end-to-end tests start
# their own memcached processes on loopback ports; nothing is left running).
set -euo pipefail
if command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "memcached is missing and this machine has no apt-get: install memcached" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends memcached
# the package starts a system service; the tests need only the binary
$sudo systemctl stop memcached 2>/dev/null || $sudo service memcached stop 2>/dev/null || true
