#!/bin/sh
# deps.sh — install the Debian 12 packages admd builds and runs with, if any
# is missing.  Needs root (or sudo) only when something must be installed.
PKGS="build-essential pkg-config libsqlite3-dev sqlite3 ocl-icd-opencl-dev opencl-c-headers
 opencl-clhpp-headers libclblast-dev libpng-dev libsystemd-dev pocl-opencl-icd libzip-dev libssl-dev libjson-c-dev libsmartcols-dev jq
 clang libclang-rt-14-dev clinfo systemd xz-utils strace oclgrind unzip bsdutils
 liblapacke-dev libopenblas-dev
 time python3 python3-nacl nats-server libnats-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
