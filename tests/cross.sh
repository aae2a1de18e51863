#!/bin/bash
# Static musl builds for x86_64 and aarch64, the aarch64 unit tests under qemu-user, and the
# build with Rust 1.88 (the Rust of Buildroot 2025.08 to 2026.02).
#
#   tests/cross.sh          everything below, in this order
#   tests/cross.sh build    only the static release binaries and their size budgets
#                           (tests/bench/footprint.sh uses it)
#   tests/cross.sh test     only the aarch64 unit tests under qemu-aarch64-static
#   tests/cross.sh msrv     only the Rust 1.88 builds (--locked)
#   tests/cross.sh flags ARCH
#                           print the RUSTFLAGS of the release build for ARCH (x86_64 or
#                           aarch64), so the VM images carry the binary measured here
#
# Installs what is missing: the rustup targets, the 1.88.0 toolchain, qemu-user-static.
# Configuration goes through environment variables only (no .cargo/config.toml), all of it in
# release_flags below. Sizes measured with Rust 1.95, full build, x86_64 / aarch64:
#   both:    linked by rust-lld (rustup ships it; no cross gcc needed), which makes a static
#            non-PIE executable, with --icf=all: identical functions are folded into one (Rust
#            promises no distinct addresses for distinct functions): 893,016 -> 879,704 B /
#            817,256 -> 811,432 B.
#            src/link/no-unwind-tables.ld with --no-eh-frame-hdr: no unwind tables. The release
#            profile aborts on panic, so they only fed the panic backtrace, which in a stripped
#            binary names no frame (the file says how this was checked): 879,704 -> 802,848 B /
#            811,432 -> 712,992 B.
#   x86_64:  -C relocation-model=static, so the binary is a plain static executable
#            (`file`: "statically linked"); without it rustc makes a static-pie
#            ("static-pie linked"), about 29 KiB larger, with an ASLR-randomised image.
#            -C force-frame-pointers=yes: without unwind tables, frame pointers are what lets
#            perf and gdb walk the daemon's stacks (aarch64 keeps them by default). It costs
#            nothing measurable here (802,880 B without). A Cargo profile cannot set it on
#            stable Rust.
#   aarch64: tests run with qemu-aarch64-static as the cargo runner.
# Size budgets (stripped binaries, bytes): the full build 850,000 on either target, enforced: a
# binary over it fails `build`. The VRRP-only build (--no-default-features, without the load
# balancer; keepalived's --disable-lvs) 576 KiB on x86_64: missed on stable Rust (README,
# "Footprint": a stable-Rust std alone is about 350 KB), so its miss is printed loudly and fails
# the script only with KEEPALIVED_RS_SIZE_STRICT=1.
# Binaries go under $CARGO_TARGET_DIR (default target/); the VRRP-only one under its vrrp-only/.
# Exit status: 0 when every step passed; the first failing step stops the script; 3 when every
# binary was built but one is over its budget (the VRRP-only one: with
# KEEPALIVED_RS_SIZE_STRICT=1); tests/bench/footprint.sh then reports it itself.
set -euo pipefail

cd "$(dirname "$0")/.."

X86=x86_64-unknown-linux-musl
ARM=aarch64-unknown-linux-musl
MSRV=1.88.0
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER=qemu-aarch64-static

# $1 = x86_64 | aarch64. The RUSTFLAGS of a release build (header comment: why each).
release_flags() {
    local f="${RUSTFLAGS:-} -C linker=rust-lld -C link-arg=--icf=all"
    f+=" -C link-arg=--no-eh-frame-hdr -C link-arg=$PWD/src/link/no-unwind-tables.ld"
    case $1 in
    x86_64) echo "$f -C relocation-model=static -C force-frame-pointers=yes" ;;
    aarch64) echo "$f" ;;
    *) die "release_flags: unknown architecture '$1'" ;;
    esac
}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
VRRP_ONLY_DIR=$TARGET_DIR/vrrp-only
FULL_BUDGET=850000
VRRP_ONLY_BUDGET=$((576 * 1024))

step() { printf '\n== %s\n' "$*"; }
die() {
    echo "cross.sh: $*" >&2
    exit 1
}

# `rustup target add` is a no-op when the target is installed.
need_targets() {
    local tc=$1
    local installed
    installed=$(rustup target list --installed --toolchain "$tc")
    for t in "$X86" "$ARM"; do
        grep -qx "$t" <<<"$installed" || rustup target add --toolchain "$tc" "$t"
    done
}

need_msrv() {
    rustup toolchain list | grep -q "^$MSRV" ||
        rustup toolchain install "$MSRV" --profile minimal
}

# Another apt-get may hold the dpkg lock: retry a bounded number of times.
need_qemu() {
    command -v qemu-aarch64-static >/dev/null && return 0
    local try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        if apt-get install -y qemu-user-static >/dev/null 2>&1; then
            return 0
        fi
        echo "apt-get install qemu-user-static failed (try $try/10), retrying in 15 s" >&2
        sleep 15
    done
    die "could not install qemu-user-static"
}

default_toolchain() {
    rustup show active-toolchain | cut -d' ' -f1
}

# $1 = path of a binary. Fails unless `file` says it is a static, non-PIE executable.
check_static() {
    local desc
    desc=$(file -b "$1")
    echo "$1: $desc"
    [[ $desc == *"statically linked"* ]] || die "$1 is not statically linked"
}

# $1 = a label, $2 = path of a binary, $3 = its budget in bytes. Prints the size beside the
# budget; returns 1 when the binary is over it.
check_size() {
    local bytes
    bytes=$(stat -c %s "$2")
    if ((bytes < $3)); then
        printf '%-40s %9d bytes, budget %9d: %d under\n' "$1" "$bytes" "$3" $(($3 - bytes))
    else
        printf '%-40s %9d bytes, budget %9d: OVER by %d\n' "$1" "$bytes" "$3" $((bytes - $3))
        return 1
    fi
}

build() {
    need_targets "$(default_toolchain)"
    step "static release build, $X86"
    RUSTFLAGS=$(release_flags x86_64) cargo build --locked --release --target "$X86"
    step "static release build, $X86, VRRP only (--no-default-features)"
    RUSTFLAGS=$(release_flags x86_64) cargo build --locked --release --target "$X86" \
        --no-default-features --target-dir "$VRRP_ONLY_DIR"
    step "static release build, $ARM"
    RUSTFLAGS=$(release_flags aarch64) cargo build --locked --release --target "$ARM"
    local x86=$TARGET_DIR/$X86/release/keepalived-rs
    local x86_vrrp=$VRRP_ONLY_DIR/$X86/release/keepalived-rs
    local arm=$TARGET_DIR/$ARM/release/keepalived-rs
    step "file"
    local f
    for f in "$x86" "$x86_vrrp" "$arm"; do
        check_static "$f"
    done
    step "the aarch64 binary runs under qemu-user"
    local v
    v=$(qemu-aarch64-static "$arm" -v)
    echo "$v"
    [[ $v == keepalived-rs* ]] || die "aarch64 binary did not print its version"
    step "sizes (stripped)"
    local over=0 vrrp_over=0
    check_size "$X86" "$x86" "$FULL_BUDGET" || over=1
    check_size "$X86, VRRP only" "$x86_vrrp" "$VRRP_ONLY_BUDGET" || vrrp_over=1
    check_size "$ARM" "$arm" "$FULL_BUDGET" || over=1
    if ((over)); then
        echo "cross.sh: SIZE BUDGET MISSED: a full build is over 850,000 B (see above)" >&2
        exit 3
    fi
    if ((vrrp_over)); then
        echo "cross.sh: SIZE BUDGET MISSED: the VRRP-only build is over 576 KiB" \
            "(known on stable Rust: README, \"Footprint\")" >&2
        if [[ ${KEEPALIVED_RS_SIZE_STRICT:-0} == 1 ]]; then
            exit 3
        fi
    fi
}

# The library's unit tests (all the pure code: config, wire, vrrp, netlink messages) and the
# binary's. The integration tests in tests/*.rs are not run here: they need root, network
# namespaces and re-run themselves or the daemon under `ip netns exec`, which cannot start an
# aarch64 executable without binfmt_misc (not registered in this container); they run on the
# x86_64 host in tests/run.sh.
test_aarch64() {
    need_targets "$(default_toolchain)"
    need_qemu
    step "unit tests on $ARM under qemu-aarch64-static"
    cargo test --locked --target "$ARM" --lib --bins
}

msrv() {
    need_msrv
    need_targets "$MSRV"
    step "Rust $MSRV: every target (lib, bin, tests) on the host, --locked"
    cargo "+$MSRV" build --locked --all-targets
    step "Rust $MSRV: static release build for $ARM, as Buildroot would"
    cargo "+$MSRV" build --locked --release --target "$ARM" --target-dir "$TARGET_DIR/msrv"
    check_static "$TARGET_DIR/msrv/$ARM/release/keepalived-rs"
    printf 'Rust %s, %s: %d bytes\n' "$MSRV" "$ARM" \
        "$(stat -c %s "$TARGET_DIR/msrv/$ARM/release/keepalived-rs")"
}

case "${1:-all}" in
build) build ;;
test) test_aarch64 ;;
msrv) msrv ;;
flags)
    release_flags "${2:-}"
    exit 0
    ;;
all)
    build
    test_aarch64
    msrv
    ;;
*) die "usage: $0 [all|build|test|msrv]" ;;
esac
step "cross.sh ${1:-all}: ok"
