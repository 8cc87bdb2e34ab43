#!/usr/bin/env bash
# No `set -e`: both sanitizer runs go ahead even when the first fails; the
# exit status says whether either did.
set -uo pipefail
USAGE=$(cat <<'EOF'
The test suite under ThreadSanitizer and AddressSanitizer (each in its own
build folder). The peer processes the tests start are the instrumented
binary too (WEFT_BIN is set to it, and the script checks it carries the
sanitizer's runtime), and stop at their first report, so a race or memory
error in the reactor, the rings or the fan fails the test that provoked it.
Every report, the test process's and any child's (a peer a test killed or
whose exit status it did not check included), is also written to a folder
of its own (printed); one there fails the run.

  scripts/dev/sanitize.sh [thread|address|both] [-- extra swift test args, e.g. --filter RingTests]
    default: both

Under ThreadSanitizer every process also gets LD_PRELOAD of
scripts/dev/tsan-mutex.c (built into the build folder): Synchronization.Mutex
hands a contended lock over in the kernel, unseen by TSan, which then reports
the critical sections of two threads as a race; the wrapper tells TSan of
that hand-over and nothing else (see the file).

Instrumented code is several times slower, so the bounded waits of the test
support (eventually, waitForLog, terminate) are stretched by
WEFT_TEST_TIME_SCALE, set here to 4 unless it is set already.

Left out (--skip), because they cannot test instrumented code:
  PackageTests  builds and runs scripts/release/package.sh's static release archive:
                a `swift build -c release` of its own, not instrumented, so
                nothing there runs under the sanitizer (and it costs a full
                release build on top)
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
which=${1:-both}; shift || true
[ "${1:-}" = "--" ] && shift
cd "$lib_root" || exit 1
status=0
skips=(--skip PackageTests)   # see USAGE for why
export WEFT_TEST_TIME_SCALE=${WEFT_TEST_TIME_SCALE:-4}
run() {   # sanitizer scratch [extra swift test args]
  local sanitizer=$1 scratch=$2; shift 2
  local runtime reports bin start rc
  case "$sanitizer" in thread) runtime=__tsan_init ;; address) runtime=__asan_init ;; esac
  echo "sanitize: swift build --build-tests --sanitize=$sanitizer (build folder $scratch)" >&2
  if ! swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$scratch.build.log" 2>&1; then
    tail -20 "$scratch.build.log" >&2
    echo "sanitize: $sanitizer: the build failed (log: $scratch.build.log)" >&2
    status=1; return
  fi
  # The peers the tests start: this build's weft, never one from the
  # environment or from another build folder.
  bin=$(swift build --sanitize="$sanitizer" --scratch-path "$scratch" --show-bin-path)/weft
  # (grep without -q: it reads all of nm's output, so no SIGPIPE under pipefail)
  if ! nm "$bin" 2>/dev/null | grep -w "$runtime" >/dev/null; then
    echo "sanitize: $sanitizer: $bin is not instrumented (no $runtime)" >&2
    status=1; return
  fi
  local preload=
  if [ "$sanitizer" = thread ]; then
    preload=$lib_root/$scratch/tsan-mutex.so
    # shellcheck disable=SC2016  # the $ is part of the Swift symbol names, not an expansion
    if ! "${CC:-clang}" -O1 -shared -fPIC -Wall -o "$preload" scripts/dev/tsan-mutex.c -ldl \
       || ! nm -D "$preload" | grep -F '$s15Synchronization12_MutexHandleV11_unlockSlowyyF' >/dev/null \
       || ! nm -D "$(dirname "$bin")/weftPackageTests.xctest" | grep -F 'U $s15Synchronization12_MutexHandleV11_unlockSlowyyF' >/dev/null; then
      echo "sanitize: thread: cannot build scripts/dev/tsan-mutex.c, or the Mutex slow paths it wraps are not what the tests call" >&2
      status=1; return
    fi
  fi
  reports=$(mktemp -d "${TMPDIR:-/tmp}/weft-$sanitizer-reports.XXXXXX")
  chmod 1777 "$reports"   # peers run as nobody by FirstRunTests write there too
  echo "sanitize: swift test --sanitize=$sanitizer, WEFT_BIN=$bin, WEFT_TEST_TIME_SCALE=$WEFT_TEST_TIME_SCALE${preload:+, LD_PRELOAD=$preload}, reports in $reports" >&2
  start=$SECONDS
  LD_PRELOAD=${preload:-${LD_PRELOAD:-}} \
  WEFT_BIN=$bin \
  TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$reports/report" \
  ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:exitcode=66:log_path=$reports/report" \
    swift test --sanitize="$sanitizer" --scratch-path "$scratch" "${skips[@]}" "$@" 2>&1 | tee "$scratch.log" | grep -E "Executed .* tests|error:|WARNING: ThreadSanitizer|ERROR: AddressSanitizer|SUMMARY" | sort | uniq -c
  rc=${PIPESTATUS[0]}
  if compgen -G "$reports/report*" >/dev/null; then
    echo "sanitize: $sanitizer: reports (first lines of each):" >&2
    for f in "$reports"/report*; do echo "== $f" >&2; head -40 "$f" >&2; done
    [ "$rc" = 0 ] && rc=66
  fi
  echo "sanitize: $sanitizer: exit $rc in $((SECONDS - start)) s (full log: $scratch.log, reports: $reports)" >&2
  [ "$rc" = 0 ] || status=1
}
case "$which" in
  thread) run thread .build-tsan "$@" ;;
  address) run address .build-asan "$@" ;;
  both) run thread .build-tsan "$@"; run address .build-asan "$@" ;;
  *) lib_die "thread, address or both, not '$which'" ;;
esac
exit $status
