# programs.sh — sourced by the shell tests that run admd and admctl
# (tests/daemon_common.sh, tests/t_fleet*.sh): the result-line helpers of
# lib.sh, the binaries under test, the kernel caches, the test device, and
#   need PROGRAM...   a FAIL line and exit unless each is an executable path
#                     or a command on PATH
#   scratch NAME      T = a new folder /tmp/NAME.XXXXXX; at exit every pid in
#                     PIDS is killed and T removed (kept with KEEP_T=1)
#   wait_for S CMD... until CMD succeeds (output discarded), at most S seconds
. tests/lib.sh    # pass, fail, check
BUILD=${ADM_BUILD:-build}
ADMD=$BUILD/admd
ADMCTL=$BUILD/admctl
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}"
export ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
DEVICE_ARGS=${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}

need() {
  for b in "$@"; do
    if [ ! -x "$b" ] && ! command -v "$b" >/dev/null 2>&1; then
      echo "FAIL $(basename "$0" .sh): $b missing (make builds admd and admctl; sh tools/deps.sh installs the rest)"; exit 1
    fi
  done
}

scratch() {
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=""
  trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "$KEEP_T" ] || rm -rf "$T"' EXIT
}

wait_for() {
  limit=$1; shift
  end=$(( $(date +%s) + limit ))
  while ! "$@" > /dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2; done
}
