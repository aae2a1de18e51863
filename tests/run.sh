#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the CLI tests, and the VRRP and interop tests in
# network namespaces (those need root, ip, keepalived, ping and tcpdump); then the static musl
# builds with the aarch64 unit tests under qemu-user and the Rust 1.88 build (tests/cross.sh),
# routers booted under qemu, x86_64, aarch64 and mixed pairs (tests/vm.sh), the packaging
# checks (buildroot/check.sh) and the fuzz targets, FUZZ_SECONDS (default 20) each (tests/fuzz.sh).
#
#   tests/run.sh                 test keepalived-rs
#   tests/run.sh --baseline      run every scenario with real keepalived in place of
#                                keepalived-rs (proves the harness and the scenarios)
#   tests/run.sh -- ARGS         extra arguments for the test binaries (a filter, --nocapture)
#
# Environment:
#   KEEPALIVED_RS_SKIP_NETNS=1   skip the network-namespace tests (they print SKIPPED and pass)
#   KEEPALIVED_RS_SKIP_CROSS=1   skip tests/cross.sh (musl/aarch64/Rust 1.88 toolchains)
#   KEEPALIVED_RS_SKIP_VM=1      skip tests/vm.sh (qemu routers)
#   KEEPALIVED_RS_SKIP_FUZZ=1    skip tests/fuzz.sh (the fuzz targets)
#   BUILDROOT_DIR=PATH           also run Buildroot's check-package on buildroot/
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
tests/setup.sh all

if [ "$(id -u)" -ne 0 ] && [ "${KEEPALIVED_RS_SKIP_NETNS:-}" != 1 ]; then
    echo "note: not root; the network-namespace tests will fail." \
        "Set KEEPALIVED_RS_SKIP_NETNS=1 to skip them." >&2
fi

threads=${KEEPALIVED_RS_TEST_THREADS:-2}
passed=0
failed=0
failures=()
stage() {
    local name=$1
    shift
    printf '\n==== %s\n' "$name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

stage "cargo test" cargo test --no-fail-fast -- --test-threads="$threads" "${test_args[@]}"
# The stages below are about our own binary; a baseline run or a filtered run skips them.
if [ -z "${KEEPALIVED_RS_BIN:-}" ] && [ "${#test_args[@]}" -eq 0 ]; then
    if [ "${KEEPALIVED_RS_SKIP_CROSS:-}" = 1 ]; then
        echo "tests/cross.sh: SKIPPED (KEEPALIVED_RS_SKIP_CROSS=1)"
    else
        stage "static musl builds, aarch64 unit tests, Rust 1.88 (tests/cross.sh)" tests/cross.sh
    fi
    stage "routers under qemu, x86_64 and aarch64 (tests/vm.sh)" tests/vm.sh
    # As root the init scripts also run against the release daemon (busybox from busybox-static).
    packaging() {
        if [ "$(id -u)" -eq 0 ]; then
            cargo build --release --quiet && RUN_INIT_TESTS=1 buildroot/check.sh
        else
            buildroot/check.sh
        fi
    }
    stage "packaging (buildroot/check.sh)" packaging
    stage "fuzz targets (tests/fuzz.sh)" tests/fuzz.sh
fi

echo
for f in "${failures[@]}"; do
    echo "FAILED: $f"
done
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
