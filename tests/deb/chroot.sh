#!/bin/sh
# tests/deb/chroot.sh (part of make check-deb) — the built package installs
# and works on a clean Debian 12: a minbase bookworm made by debootstrap
# (kept under $ADMD_CACHE_DIR/deb-chroot as a tarball, so only the first
# run downloads it), `apt-get install ./admd_*.deb` there resolves every
# dependency from Debian's archive alone, the maintainer scripts create
# the admd user and /var/lib/admd, both programs run, `admctl generate`
# draws digits with the shipped MNIST model on PoCL, and `apt-get purge`
# removes the package again.  Needs root, debootstrap and Debian's
# archive; says SKIP and why otherwise.
# usage: sh tests/deb/chroot.sh DEB
. tests/lib.sh
DEB=$1
[ -f "$DEB" ] || { fail deb_chroot "no package '$DEB' (make deb first)"; exit 1; }
if [ "$(id -u)" != 0 ]; then echo "SKIP deb_chroot_install: needs root (chroot, mount)"; exit 0; fi
command -v debootstrap > /dev/null || { echo "SKIP deb_chroot_install: debootstrap missing (apt-get install debootstrap)"; exit 0; }
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
CACHE=${ADMD_CACHE_DIR:-$HOME/.cache/admd}/deb-chroot
TARBALL=$CACHE/bookworm-minbase.tgz
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  echo "  deb: debootstrap --make-tarball (first run only, a few minutes)"
  debootstrap --variant=minbase --make-tarball="$TARBALL.tmp" bookworm "$CACHE/work" "$MIRROR" > "$CACHE/make-tarball.log" 2>&1 &&
    mv "$TARBALL.tmp" "$TARBALL" || { echo "SKIP deb_chroot_install: debootstrap could not reach $MIRROR (see $CACHE/make-tarball.log)"; exit 0; }
  rm -rf "$CACHE/work"
fi
R=$(mktemp -d /var/tmp/admd-chroot.XXXXXX)
cleanup() {
  for m in dev/pts dev sys proc; do mountpoint -q "$R/$m" && umount -l "$R/$m"; done
  rm -rf --one-file-system "$R"
}
trap cleanup EXIT
if ! debootstrap --variant=minbase --unpack-tarball="$TARBALL" bookworm "$R" "$MIRROR" > "$R.log" 2>&1; then
  fail deb_chroot_bootstrap "$(tail -3 "$R.log")"; rm -f "$R.log"; exit 1
fi
rm -f "$R.log"
mount -t proc proc "$R/proc" && mount --rbind /sys "$R/sys" && mount --rbind /dev "$R/dev" ||
  { fail deb_chroot_mounts "could not mount /proc, /sys, /dev in the chroot"; exit 1; }
cp /etc/resolv.conf "$R/etc/resolv.conf" 2> /dev/null
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d" && chmod +x "$R/usr/sbin/policy-rc.d"   # start no service
cp "$DEB" "$R/tmp/"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }
if in_root sh -c "apt-get update -qq && apt-get install -y -qq /tmp/$(basename "$DEB")" > "$R/install.log" 2>&1; then
  pass deb_chroot_install
else
  fail deb_chroot_install "$(grep -i 'error\|unmet\|depends' "$R/install.log" | head -5)"; exit 1
fi
check deb_chroot_status_installed sh -c "chroot '$R' dpkg-query -W -f='\${Status}' admd | grep -q 'install ok installed'"
check deb_chroot_pocl_recommended sh -c "chroot '$R' dpkg-query -W -f='\${Status}' pocl-opencl-icd | grep -q 'install ok installed'"
check deb_chroot_user sh -c "chroot '$R' getent passwd admd > /dev/null"
check deb_chroot_state_dir test -d "$R/var/lib/admd"
check deb_chroot_versions sh -c "chroot '$R' admd --version | grep -q '^admd ' && chroot '$R' admctl --version | grep -q '^admctl '"
# a real picture from the installed files: the embedded model, 2 DDPM steps
if in_root sh -c 'mkdir -p /root/out && admctl generate -m mnist -c 3 -n 2 -s 7 --steps 2 -o /root/out' > "$R/gen.log" 2>&1; then
  check deb_chroot_generate_pngs sh -c "head -c 8 '$R/root/out/000001.png' | od -An -c | grep -q 'P   N   G'"
else
  fail deb_chroot_generate_pngs "$(tail -3 "$R/gen.log")"
fi
in_root apt-get purge -y -qq admd > "$R/purge.log" 2>&1
check deb_chroot_purge sh -c "! chroot '$R' dpkg-query -W -f='\${Status}' admd 2>/dev/null | grep -q 'install ok installed' && [ ! -e '$R/usr/bin/admd' ]"
