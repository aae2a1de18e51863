#!/usr/bin/env bash
# Runs every fuzz target of tests/fuzz (cargo-fuzz, libFuzzer) for FUZZ_SECONDS seconds each,
# one after the other, and prints one line per target. Exits non-zero if any target crashed
# (a panic, a failed assertion, a timeout or out of memory), naming the input that did it.
#
#   tests/fuzz.sh             every target
#   tests/fuzz.sh NAME...     only these targets (`cargo +nightly fuzz list --fuzz-dir tests/fuzz`)
#
# Environment:
#   FUZZ_SECONDS=N              seconds per target (default 20)
#   KEEPALIVED_RS_SKIP_FUZZ=1   print SKIPPED and pass
#   KEEPALIVED_RS_NO_INSTALL=1  install nothing (fail when the nightly toolchain or cargo-fuzz
#                               is missing)
#
# Installs what is missing: the nightly toolchain (rustup) and cargo-fuzz (cargo install).
# The targets are built without a sanitizer: the code under test is safe Rust
# (`#![deny(unsafe_code)]`); debug assertions and overflow checks are on. Each run starts from
# the committed seeds (tests/fuzz/seeds/NAME, tests/fuzz/make_seeds.sh) and what earlier runs
# found (tests/fuzz/corpus/NAME, not committed); a crashing input is written to
# tests/fuzz/artifacts/NAME/ (reproduce: cargo +nightly fuzz run --fuzz-dir tests/fuzz -s none
# NAME FILE). The log of each run is in $TMPDIR.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "${KEEPALIVED_RS_SKIP_FUZZ:-}" = 1 ]; then
    echo "tests/fuzz.sh: SKIPPED (KEEPALIVED_RS_SKIP_FUZZ=1)"
    exit 0
fi

seconds=${FUZZ_SECONDS:-20}
fuzz_dir=tests/fuzz
die() {
    echo "tests/fuzz.sh: $*" >&2
    exit 1
}

if ! rustup toolchain list | grep -q '^nightly'; then
    [ "${KEEPALIVED_RS_NO_INSTALL:-}" = 1 ] && die "no nightly toolchain (rustup toolchain install nightly)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    [ "${KEEPALIVED_RS_NO_INSTALL:-}" = 1 ] && die "cargo-fuzz missing (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" --sanitizer none
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir=$fuzz_dir/target/$host/release

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir "$fuzz_dir")
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/keepalived-rs-fuzz.XXXXXX")
failed=()
for t in "${targets[@]}"; do
    [ -x "$bin_dir/$t" ] || die "no fuzz target $t"
    corpus=$fuzz_dir/corpus/$t
    artifacts=$fuzz_dir/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    log=$logs/$t.log
    status=0
    # libFuzzer stops itself after max_total_time; timeout is the bound if it does not.
    timeout --kill-after=10 $((seconds + 60)) "$bin_dir/$t" "$corpus" "$fuzz_dir/seeds/$t" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    stat() { sed -nE "s|.* $1: *([0-9]+).*|\\1|p" <<<"$done_line"; }
    if [ "$status" -eq 0 ]; then
        printf '%-20s ok       %s runs, %s exec/s, cov %s, ft %s\n' "$t" \
            "$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")" "$(stat exec/s)" \
            "$(stat cov)" "$(stat ft)"
    else
        unit=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -n 1)
        if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
            printf '%-20s HUNG     still running after %ss (log %s)\n' "$t" $((seconds + 60)) "$log"
        else
            printf '%-20s CRASHED  %s (log %s)\n' "$t" "${unit:-no input saved}" "$log"
        fi
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz targets failed: ${failed[*]} (their logs are kept in $logs)"
    exit 1
fi
rm -rf "$logs" # the logs are only kept for a failure to read
echo "fuzz targets: ${#targets[@]} ran ${seconds}s each, no crash"
