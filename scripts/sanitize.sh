#!/usr/bin/env bash
# No `set -e`: both sanitizer runs go ahead even when the first fails; the
# exit status says whether either did.
set -uo pipefail
USAGE=$(cat <<'EOF'
The test suite under ThreadSanitizer and AddressSanitizer (each in its own
build folder). The peer processes the tests start are the instrumented
binary too, and stop at their first report, so a race or memory error in
the reactor, the rings or the fan fails the test that provoked it.

  scripts/sanitize.sh [thread|address|both] [-- extra swift test args, e.g. --filter RingTests]
    default: both
EOF
)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_help "$@"
which=${1:-both}; shift || true
[ "${1:-}" = "--" ] && shift
cd "$lib_root" || exit 1
status=0
run() {   # sanitizer scratch [extra swift test args]
  local sanitizer=$1 scratch=$2; shift 2
  echo "sanitize: swift test --sanitize=$sanitizer (build folder $scratch)" >&2
  TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1" \
  ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:exitcode=66" \
    swift test --sanitize="$sanitizer" --scratch-path "$scratch" "$@" 2>&1 | tee "$scratch.log" | grep -E "Executed .* tests|error:|WARNING: ThreadSanitizer|ERROR: AddressSanitizer|SUMMARY" | sort | uniq -c
  local rc=${PIPESTATUS[0]}
  echo "sanitize: $sanitizer: exit $rc (full log: $scratch.log)" >&2
  [ "$rc" = 0 ] || status=1
}
case "$which" in
  thread) run thread .build-tsan "$@" ;;
  address) run address .build-asan "$@" ;;
  both) run thread .build-tsan "$@"; run address .build-asan "$@" ;;
  *) lib_die "thread, address or both, not '$which'" ;;
esac
exit $status
