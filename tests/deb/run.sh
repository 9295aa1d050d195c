#!/bin/sh
# tests/deb/run.sh (make check-deb) — the Debian package: `make deb` builds
# it with dpkg-buildpackage from a copy of the tree, lintian reports no
# error, and the .deb holds what a service needs: binaries, the units (the
# prune and metrics timers not enabled by the maintainer scripts), the
# sysusers.d and tmpfiles.d snippets applied by postinst, /etc/default/admd
# as a conffile, man pages, bash completion, the MNIST model.  Not part of
# `make check` (several minutes, and debhelper + lintian:
# apt-get install debhelper lintian).
BUILD=${BUILD:-build}
. tests/lib.sh
for t in dpkg-buildpackage dh lintian; do
  command -v $t > /dev/null || { echo "FAIL deb: $t missing (apt-get install debhelper lintian)"; exit 1; }
done
mkdir -p "$BUILD"
if make -s deb BUILD="$BUILD" > "$BUILD/deb.log" 2>&1; then pass deb_builds; else fail deb_builds "$(tail -5 "$BUILD/deb.log")"; exit 1; fi
DEB=$(ls "$BUILD"/deb/admd_*_*.deb | head -1)
X=$(mktemp -d)
trap 'rm -rf "$X"' EXIT
# lintian as an ordinary user when there is one (it warns about root)
lintian --fail-on error "$BUILD"/deb/admd_*.changes > "$X/lintian.log" 2>&1; rc=$?
sed 's/^/  lintian: /' "$X/lintian.log" | grep -v 'running with root' | head -30
check deb_lintian_no_errors [ $rc = 0 ]
dpkg-deb -c "$DEB" | awk '{print $6}' > "$X/files"
for f in ./usr/bin/admd ./usr/bin/admctl ./lib/systemd/system/admd.service ./lib/systemd/system/admd-prune.timer \
         ./lib/systemd/system/admd-metrics.timer ./usr/lib/sysusers.d/admd.conf ./usr/lib/tmpfiles.d/admd.conf \
         ./etc/default/admd ./usr/share/man/man8/admd.8.gz ./usr/share/man/man1/admctl.1.gz \
         ./usr/share/bash-completion/completions/admctl ./usr/share/admd/models/mnist/unet.safetensors; do
  grep -qx "$f" "$X/files" || echo "  missing: $f"
done
n=$(for f in ./usr/bin/admd ./lib/systemd/system/admd.service ./usr/lib/sysusers.d/admd.conf ./usr/lib/tmpfiles.d/admd.conf ./etc/default/admd ./usr/share/bash-completion/completions/admctl; do grep -qx "$f" "$X/files" && echo y; done | wc -l)
check deb_service_files [ "$n" = 6 ]
check deb_unit_bindir sh -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xO ./lib/systemd/system/admd.service | grep -q '^ExecStart=/usr/bin/admd '"
mkdir -p "$X/ctl" && dpkg-deb -e "$DEB" "$X/ctl"
check deb_conffile grep -qx /etc/default/admd "$X/ctl/conffiles"
check deb_postinst_sysusers_tmpfiles sh -c "grep -q 'systemd-sysusers' '$X/ctl/postinst' && grep -q 'systemd-tmpfiles' '$X/ctl/postinst'"
check deb_postinst_enables_admd grep -q "deb-systemd-helper.*admd.service" "$X/ctl/postinst"
# --no-enable: a timer is enabled again only if the admin had enabled it (the block is
# guarded by debian-installed), never on a fresh install as admd.service is
check deb_timers_not_enabled sh -c "first() { awk -v u=\"'\$1'\" 'index(\$0, u) { print; exit }' '$X/ctl/postinst'; }
  first admd-prune.timer | grep -q debian-installed && first admd-metrics.timer | grep -q debian-installed &&
  grep -q \"was-enabled 'admd.service'\" '$X/ctl/postinst'"
# the binaries run (shared libraries resolved)
mkdir -p "$X/root" && dpkg-deb -x "$DEB" "$X/root"
check deb_binary_runs sh -c "'$X/root/usr/bin/admd' --version | grep -q '^admd ' && '$X/root/usr/bin/admctl' --version | grep -q '^admctl '"
# installed on a clean Debian 12 (debootstrap chroot; needs root and the archive)
sh tests/deb/chroot.sh "$DEB"
