# shellcheck shell=bash
# What the scripts share; `source "$(dirname "$0")/lib.sh"` after `set -euo pipefail`.
#
#   USAGE=$(cat <<'EOF' ... EOF)     the script's help text, printed by lib_usage
#   lib_help "$@"                    prints USAGE and exits 0 on -h/--help
#   lib_die MESSAGE                  usage error: message, exit 2
#   lib_weft                         the weft binary: $WEFT_BIN, else this tree's release build; called as
#                                    $(lib_weft) it runs `swift build` each time, so a script that starts
#                                    several peers sets WEFT_BIN=$(lib_weft) once
#   lib_start_peer LOG ARGS...       `weft node start --listen 127.0.0.1:0 ARGS...` in the background, its
#                                    stderr appended to LOG; sets lib_peer_pid, lib_peer_port,
#                                    lib_peer_ops_port and lib_peer_rest_port (empty when off), read from the
#                                    peer's --ready-file LOG.ready (JSON), never from the log: any log format
#                                    or level works, and no port is guessed; killed at exit. A --listen in
#                                    ARGS replaces 127.0.0.1:0 (a fixed address the user asked for); the
#                                    REST API is on a free port unless ARGS set rest.address
#   lib_start_server LOG COMMAND...  another server (e.g. ../shared/bench's refpeer or nio-peer, told to listen
#                                    on port 0) in the background, stdout and stderr appended to LOG; sets
#                                    lib_server_pid and lib_server_port (from its "listening on HOST:PORT"
#                                    line); killed at exit
#   lib_track PID...                 processes to stop (SIGTERM, then wait) when the script exits
#   lib_on_exit COMMAND              a command to run when the script exits (after the processes stop);
#                                    exit, error, Ctrl-C and SIGTERM alike
#   lib_wait_for SECONDS COMMAND...  runs COMMAND every 0.1 s until it succeeds; fails after SECONDS (whole
#                                    seconds; a slow COMMAND is not run again once they have passed)
#   lib_metric OPS_PORT NAME         one unlabelled metric's value from the peer's /metrics (empty if absent)
#   lib_metric_sum OPS_PORT NAME     a metric summed over its labels (0 if absent)
#   lib_validator_certs DIR N        gen-certs.sh for vp0..vp<N-1> into DIR; sets lib_load_tls, the
#                                    `weft load` arguments for mutual TLS with them
#   lib_start_validators WORK PLUGIN N BATCH TLS [ARGS...]
#                                    vp0..vp<N-1> with consenter PLUGIN (batch BATCH, mutual TLS with the
#                                    certificates in WORK/certs when TLS is 1, ARGS added to each), data and
#                                    logs under WORK, each on port 0; waits for the full mesh; sets
#                                    lib_validator_pids, lib_validator_listen, lib_validator_ops (arrays)
#                                    and lib_mesh_seconds

lib_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lib_name=$(basename "$0" .sh)
USAGE=${USAGE:-}
lib_pids=()
lib_exit_commands=()

lib_usage() { printf '%s\n' "$USAGE"; }

lib_help() {
    local arg
    for arg in "$@"; do
        case "$arg" in -h|--help) lib_usage; exit 0 ;; --) return 0 ;; esac
    done
}

lib_die() { echo "$lib_name: $*" >&2; echo "(see $0 --help)" >&2; exit 2; }

lib_weft() {
    if [ -n "${WEFT_BIN:-}" ]; then
        [ -x "$WEFT_BIN" ] || lib_die "WEFT_BIN=$WEFT_BIN is not an executable"
        echo "$WEFT_BIN"
        return
    fi
    if [ -z "${lib_built:-}" ]; then
        swift build -c release --package-path "$lib_root" --product weft >&2 || return 1
        lib_built=1
    fi
    echo "$lib_root/.build/release/weft"
}

lib_track() { lib_pids+=("$@"); }
lib_on_exit() { lib_exit_commands+=("$1"); }

lib_cleanup() {
    local pid command live
    # Only processes that are still this shell's children: a number of one
    # that ended long ago may belong to someone else by now.
    live=" $(jobs -p | tr '\n' ' ') "
    for pid in "${lib_pids[@]}"; do
        case "$live" in *" $pid "*) kill -TERM "$pid" 2>/dev/null || true ;; esac
    done
    for pid in "${lib_pids[@]}"; do
        case "$live" in *" $pid "*) wait "$pid" 2>/dev/null || true ;; esac
    done
    for command in "${lib_exit_commands[@]}"; do eval "$command" || true; done
}
trap lib_cleanup EXIT
# Without a trap, bash dies of SIGTERM (kill, timeout(1), systemd) without running the EXIT trap.
trap 'exit 143' TERM

lib_wait_for() {
    local seconds=$1; shift
    local tries=$((seconds * 10)) deadline=$((SECONDS + seconds))
    until "$@"; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] && [ "$SECONDS" -le "$deadline" ] || return 1
        sleep 0.1
    done
}

lib_start_peer() {
    local log=$1; shift
    local weft arg listen=(--listen 127.0.0.1:0) ready
    ready="$log.ready"
    weft=$(lib_weft) || exit $?
    local rest=(--set rest.address=127.0.0.1:0)   # peers on one host must not all want REST's 7050
    for arg in "$@"; do
        [ "$arg" = --listen ] && listen=()
        [[ "$arg" == rest.address=* ]] && rest=()
    done
    # An earlier run's file must not be taken for this one's.
    rm -f "$ready"
    "$weft" node start ${listen[@]+"${listen[@]}"} ${rest[@]+"${rest[@]}"} --ready-file "$ready" "$@" 2>>"$log" &
    lib_peer_pid=$!
    lib_track "$lib_peer_pid"
    lib_peer_port=
    local deadline=$((SECONDS + 30)) json
    until [ -s "$ready" ]; do
        kill -0 "$lib_peer_pid" 2>/dev/null || { tail -5 "$log" >&2; echo "$lib_name: the peer exited at start (log: $log)" >&2; exit 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "$lib_name: no ready file $ready within 30 s (log: $log)" >&2; exit 1; }
        sleep 0.1
    done
    # One JSON line with sorted keys, written atomically: {"address":…,"listen":"H:P","operations":"H:P"|null,"pid":N,"rest":"H:P"|null}
    json=$(cat "$ready")
    lib_peer_port=$(sed -n 's/.*"listen":"[^"]*:\([0-9][0-9]*\)".*/\1/p' <<<"$json")
    # shellcheck disable=SC2034  # for the caller
    lib_peer_ops_port=$(sed -n 's/.*"operations":"[^"]*:\([0-9][0-9]*\)".*/\1/p' <<<"$json")
    # shellcheck disable=SC2034  # for the caller
    lib_peer_rest_port=$(sed -n 's/.*"rest":"[^"]*:\([0-9][0-9]*\)".*/\1/p' <<<"$json")
    [ -n "$lib_peer_port" ] || { echo "$lib_name: no listen address in $ready: $json" >&2; exit 1; }
}

lib_start_server() {
    local log=$1; shift
    local first line
    first=$(( $( { wc -l <"$log"; } 2>/dev/null || echo 0) + 1 ))
    "$@" >>"$log" 2>&1 &
    lib_server_pid=$!
    lib_track "$lib_server_pid"
    lib_server_port=
    local deadline=$((SECONDS + 30))
    while [ -z "$lib_server_port" ]; do
        line=$(tail -n +"$first" "$log" 2>/dev/null | grep -m1 'listening on' || true)
        lib_server_port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' <<<"$line")
        [ -n "$lib_server_port" ] && break
        kill -0 "$lib_server_pid" 2>/dev/null || { tail -5 "$log" >&2; echo "$lib_name: $(basename "$1") exited at start (log: $log)" >&2; exit 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "$lib_name: no 'listening on' line from $(basename "$1") in $log within 30 s" >&2; exit 1; }
        sleep 0.1
    done
}

lib_metric() { curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 \([0-9.e+]*\)$/\1/p" || true; }
lib_metric_sum() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d\n", s }' || echo 0; }

lib_validator_certs() {
    local dir=$1 n=$2 i names=()
    for i in $(seq 0 $((n - 1))); do names+=("vp$i"); done
    "$lib_root/scripts/cluster/gen-certs.sh" --out "$dir" "${names[@]}" >/dev/null
    # shellcheck disable=SC2034  # for the caller
    lib_load_tls=(--id-domain load.weft --tls-cert "$dir/load.pem" --tls-key "$dir/load.key" --tls-root-cert "$dir/ca.pem")
}

lib_start_validators() {
    local work=$1 plugin=$2 n=$3 batch=$4 tls=$5; shift 5
    local i began
    began=$(date +%s.%N)
    lib_validator_pids=() lib_validator_listen=() lib_validator_ops=()
    for i in $(seq 0 $((n - 1))); do
        # Port 0: lib_start_peer reads the ports from the ready file; info logs each connection once.
        local args=(--peer-id "vp$i" --ops-listen 127.0.0.1:0
                    --data-dir "$work/$plugin/vp$i" --consensus "$plugin" --log-level info
                    --set peer.discovery.persist=false
                    --set "pbft.general.N=$n" --set "pbft.general.f=$(((n - 1) / 3))" --set "pbft.general.batchsize=$batch"
                    --set "peer.validator.consensus.noops.blockSize=$batch")
        [ "$i" -gt 0 ] && args+=(--root-node "127.0.0.1:${lib_validator_listen[0]}")
        [ "$tls" = 1 ] && args+=(--tls --tls-cert "$work/certs/vp$i.pem" --tls-key "$work/certs/vp$i.key" --tls-root-cert "$work/certs/ca.pem")
        lib_start_peer "$work/$plugin-vp$i.log" "${args[@]}" "$@"
        lib_validator_pids+=("$lib_peer_pid") lib_validator_listen+=("$lib_peer_port") lib_validator_ops+=("$lib_peer_ops_port")
    done
    if ! lib_wait_for $((60 + 2 * n)) lib_full_mesh "$work" "$plugin" "$n"; then
        echo "$lib_name: the $plugin mesh of $n did not form within $((60 + 2 * n)) s (logs in $work)" >&2
        exit 1
    fi
    # shellcheck disable=SC2034  # for the caller
    lib_mesh_seconds=$(python3 -c "import time; print(f'{time.time() - $began:.1f}')")
}

# Every validator has the other n-1 established; one that exited ends the run.
lib_full_mesh() {
    local work=$1 plugin=$2 n=$3 i count
    for i in $(seq 0 $((n - 1))); do
        kill -0 "${lib_validator_pids[$i]}" 2>/dev/null || { echo "$lib_name: vp$i exited at start: $(tail -3 "$work/$plugin-vp$i.log")" >&2; exit 1; }
    done
    for i in $(seq 0 $((n - 1))); do
        count=$(lib_metric "${lib_validator_ops[$i]}" weft_peers_established)
        [ "${count:-0}" -ge $((n - 1)) ] || return 1
    done
}
