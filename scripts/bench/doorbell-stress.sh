#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
The Doorbell (Sources/Weft/Concurrency) under two threads for millions of
rounds, built with -O on its own (Tests/Stress/DoorbellStress.swift): each
round pushes, rings, and waits (bounded) until the consumer took it, so a
lost wake-up shows as a round that never completes. Then the same with the
producer's fence taken out — the one-sided fencing of the old
ConsensusFan.notify() — which must lose a wake-up, or the harness proves
nothing on this machine.

  scripts/bench/doorbell-stress.sh [ROUNDS]      ROUNDS defaults to 3000000

Exit 0 when the real doorbell lost nothing and the unfenced one did.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"
rounds=${1:-3000000}
[[ "$rounds" =~ ^[0-9]+$ ]] || lib_die "rounds must be a whole number, not '$rounds'"
work=$(mktemp -d /tmp/weft-doorbell.XXXXXX)
lib_on_exit "rm -rf '$work'"
src=$lib_root/Sources/Weft/Concurrency
cp "$src/SPSCRing.swift" "$src/Doorbell.swift" "$lib_root/Tests/Stress/DoorbellStress.swift" "$work/"
mv "$work/DoorbellStress.swift" "$work/main.swift"
swiftc -O -o "$work/fenced" "$work/SPSCRing.swift" "$work/Doorbell.swift" "$work/main.swift"
# The producer's fence out: ring() loads the announcement right after the push's store.
python3 - "$work/Doorbell.swift" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
head = "    public func ring() -> Bool {\n        atomicMemoryFence(ordering: .sequentiallyConsistent)\n"
assert head in s, "ring() no longer starts with its fence: update this script"
open(p, "w").write(s.replace(head, "    public func ring() -> Bool {\n"))
PY
swiftc -O -o "$work/unfenced" "$work/SPSCRing.swift" "$work/Doorbell.swift" "$work/main.swift"
status=0
echo "doorbell: fenced on both sides:" >&2
"$work/fenced" "$rounds" || status=1
echo "doorbell: without the producer's fence (must lose one):" >&2
if "$work/unfenced" "$rounds"; then
    echo "doorbell: the unfenced variant lost nothing in $rounds rounds: the harness did not open the window here" >&2
    status=1
fi
exit $status
