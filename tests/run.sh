#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the CLI tests, and the VRRP and interop tests in
# network namespaces (those need root, ip, keepalived, ping and tcpdump).
#
#   tests/run.sh                 test keepalived-rs
#   tests/run.sh --baseline      run every scenario with real keepalived in place of
#                                keepalived-rs (proves the harness and the scenarios)
#   tests/run.sh -- ARGS         extra arguments for the test binaries (a filter, --nocapture)
#
# Environment:
#   KEEPALIVED_RS_SKIP_NETNS=1   skip the network-namespace tests (they print SKIPPED and pass)
#   KEEPALIVED_RS_BIN=PATH       the program tested as keepalived-rs (--baseline sets it)
#   KEEPALIVED_RS_TEST_THREADS=N tests run at once (default 2: timing tests on a small machine)
#   KEEPALIVED_RS_KEEP_LOGS=1    keep each lab's configs and logs in $TMPDIR
set -euo pipefail

cd "$(dirname "$0")/.."

test_args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --baseline)
        KEEPALIVED_RS_BIN=$(command -v keepalived || echo /usr/sbin/keepalived)
        export KEEPALIVED_RS_BIN
        echo "baseline: every scenario runs with $KEEPALIVED_RS_BIN in place of keepalived-rs"
        ;;
    --)
        shift
        test_args+=("$@")
        break
        ;;
    *)
        echo "usage: $0 [--baseline] [-- test-args...]" >&2
        exit 2
        ;;
    esac
    shift
done

# Remove namespaces left by runs that were killed before their clean-up ran: kt<pid>x<n><node>
# (tests), kb<pid><node> (bench), kd<pid><node> (demo), and only when <pid> is gone.
sweep_stale_namespaces() {
    local ns pid p
    [ "$(id -u)" -eq 0 ] || return 0
    command -v ip >/dev/null || return 0
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' |
        grep -E '^k[tbd][0-9]+(x[0-9]+)?(sw|n[0-9]|c)$' || true); do
        pid=${ns#k?}
        pid=${pid%%[!0-9]*}
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            for p in $(ip netns pids "$ns" 2>/dev/null); do
                kill -9 "$p" 2>/dev/null || true
            done
            if ip netns del "$ns" 2>/dev/null; then
                echo "removed stale network namespace $ns"
            fi
        fi
    done
}
sweep_stale_namespaces

if [ "$(id -u)" -ne 0 ] && [ "${KEEPALIVED_RS_SKIP_NETNS:-}" != 1 ]; then
    echo "note: not root; the network-namespace tests will fail." \
        "Set KEEPALIVED_RS_SKIP_NETNS=1 to skip them." >&2
fi

threads=${KEEPALIVED_RS_TEST_THREADS:-2}
exec cargo test --no-fail-fast -- --test-threads="$threads" "${test_args[@]}"
