#!/bin/bash
# Footprint of keepalived-rs beside keepalived 2.2.7 (the Debian package on this machine):
#   1. the stripped binary per target (bytes, KiB, how it links, shared libraries), and
#   2. resident memory (RSS and PSS from /proc/PID/smaps_rollup) of a running daemon with 1 and
#      with 64 VRRP instances on one interface, in a lab of network namespaces.
#
# Lab: namespace <P>sw holds bridge br0; <P>n1 (eth0 192.0.2.1/24) and <P>n2 (eth0 192.0.2.2/24)
# hang off it by veth pairs. n1 runs the daemon under test as MASTER (priority 150), n2 the same
# daemon as BACKUP (priority 100): VRRPv3, advert_int 0.1, VRIDs 1..N, VIP 192.0.2.(99+VRID)/32
# each. Both daemons run with `-n -l -G -P` (VRRP only: keepalived runs a parent and a VRRP child;
# keepalived-rs is one process). After FOOTPRINT_SETTLE seconds the script checks the lab is in
# steady state (every VIP on n1, none on n2), then sums RSS/PSS over every process in each
# router's namespace. Each daemon runs from its own copy of its binary, so the two routers do not
# share executable pages (one daemon per router, as on real hardware); keepalived's shared
# libraries stay shared with the rest of the machine, which is what PSS is for.
#
# Usage: tests/bench/footprint.sh [--strict]     (root; --strict: exit 1 when a target is missed)
# Environment: FOOTPRINT_REPS (default 3, medians are printed), FOOTPRINT_SETTLE (seconds, 6).
# Targets: stripped x86_64 binaries under the budgets of tests/cross.sh (the full build < 850,000 B,
# keepalived's own executable; the VRRP-only build, --no-default-features, < 576 KiB); PSS of
# keepalived-rs with 64 instances < 1 MiB.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=tests/lab.sh
. tests/lab.sh
REPS=${FOOTPRINT_REPS:-3}
SETTLE=${FOOTPRINT_SETTLE:-6}
STRICT=0
[[ ${1:-} == --strict ]] && STRICT=1
SIZE_TARGET=850000
VRRP_ONLY_SIZE_TARGET=$((576 * 1024))
PSS_TARGET_KIB=1024
X86=x86_64-unknown-linux-musl
ARM=aarch64-unknown-linux-musl

die() {
    echo "footprint.sh: $*" >&2
    exit 1
}
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
for tool in ip file ldd keepalived; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ $REPS =~ ^[1-9][0-9]?$ ]] || die "FOOTPRINT_REPS must be 1..99"
[[ $SETTLE =~ ^[1-9][0-9]?$ ]] || die "FOOTPRINT_SETTLE must be 1..99"

P="kfp$$"
N1="${P}n1"
N2="${P}n2"
TMP=$(mktemp -d /tmp/footprint.XXXXXX)

# Kills what runs in our namespaces (only what this script started), then
# removes the namespaces (and with them the veths and the bridge) and the scratch directory.
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    # shellcheck disable=SC2119 # no PIDs: what runs in the namespaces is killed
    lab_down
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- binaries

echo "building the static binaries (tests/cross.sh build) ..." >&2
# Exit status 3: every binary was built, one is over its size budget (reported below).
build_status=0
tests/cross.sh build >"$TMP/build.log" 2>&1 || build_status=$?
if ((build_status != 0 && build_status != 3)); then
    cat "$TMP/build.log" >&2
    die "tests/cross.sh build failed"
fi

kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }

# "<bytes> <KiB> <linking> <libs>" for one binary.
describe() {
    local f=$1 bytes link libs
    bytes=$(stat -c %s "$f")
    case "$(file -b "$f")" in
    *"statically linked"*) link=static ;;
    *"static-pie linked"*) link=static-pie ;;
    *"dynamically linked"*) link=dynamic ;;
    *) link=unknown ;;
    esac
    if [[ $link == dynamic ]]; then
        libs=$(ldd "$f" | wc -l)
    else
        libs=0
    fi
    printf '%s %s %s %s' "$bytes" "$(kib "$bytes")" "$link" "$libs"
}

# Sum of the sizes of the shared objects a dynamic binary loads (ldd's resolved paths).
libs_bytes() {
    ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
        xargs -r readlink -f | sort -u | xargs -r stat -c %s | awk '{ s += $1 } END { print s + 0 }'
}

TARGET_DIR=${CARGO_TARGET_DIR:-target}
RS_X86="$TARGET_DIR/$X86/release/keepalived-rs"
RS_X86_VRRP_ONLY="$TARGET_DIR/vrrp-only/$X86/release/keepalived-rs"
RS_ARM="$TARGET_DIR/$ARM/release/keepalived-rs"
KA=$(command -v keepalived)
KA_VERSION=$(keepalived --version 2>&1 | awk 'NR == 1 { print $2 }')

MISSES=()
echo
echo "## Binary (stripped)"
echo
printf '| %-52s | %9s | %7s | %-10s | %11s |\n' binary bytes KiB linking "shared libs"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..54})" "-----------" "---------" "------------" "-------------"
for row in "keepalived-rs $X86|$RS_X86" "keepalived-rs $X86, VRRP only|$RS_X86_VRRP_ONLY" \
    "keepalived-rs $ARM|$RS_ARM" "keepalived $KA_VERSION ($KA)|$KA"; do
    name=${row%%|*}
    f=${row#*|}
    read -r bytes k link libs <<<"$(describe "$f")"
    printf '| %-52s | %9s | %7s | %-10s | %11s |\n' "$name" "$bytes" "$k" "$link" "$libs"
done
ka_libs=$(libs_bytes "$KA")
printf '\nkeepalived loads %s KiB of shared objects besides its %s KiB binary (ldd, resolved paths).\n' \
    "$(kib "$ka_libs")" "$(kib "$(stat -c %s "$KA")")"
arm_bytes=$(stat -c %s "$RS_ARM")
# The targets are for x86_64; the aarch64 size (the binary of board/qemu-aarch64) is printed beside.
arm_note="aarch64: $(kib "$arm_bytes") KiB, $arm_bytes bytes"
# $1 = what, $2 = binary, $3 = target in bytes, $4 = the target as the README writes it.
size_target() {
    local bytes
    bytes=$(stat -c %s "$2")
    if ((bytes < $3)); then
        echo "Target $1 stripped < $4: met ($(kib "$bytes") KiB, $bytes bytes)."
    else
        echo "Target $1 stripped < $4: MISSED ($(kib "$bytes") KiB, $((bytes - $3)) bytes over)."
        MISSES+=("$1 binary size")
    fi
}
size_target "x86_64" "$RS_X86" "$SIZE_TARGET" "850,000 B"
size_target "x86_64 VRRP-only" "$RS_X86_VRRP_ONLY" "$VRRP_ONLY_SIZE_TARGET" "576 KiB"
echo "($arm_note.)"

# ---------------------------------------------------------------- lab

lab_up "$P" n1:1 n2:2

# $1 = instances, $2 = router id, $3 = state, $4 = priority
gen_conf() {
    local n=$1 k
    printf 'global_defs {\n    router_id %s\n    vrrp_version 3\n}\n' "$2"
    for ((k = 1; k <= n; k++)); do
        printf 'vrrp_instance VI_%d {\n    state %s\n    interface eth0\n' "$k" "$3"
        printf '    virtual_router_id %d\n    priority %d\n    advert_int 0.1\n' "$k" "$4"
        printf '    virtual_ipaddress {\n        192.0.2.%d/32\n    }\n}\n' $((99 + k))
    done
}

# Starts daemon binary $2 in namespace $1 with config $3, files in directory $4.
start() {
    local ns=$1 bin=$2 conf=$3 dir=$4
    ip netns exec "$ns" env TMPDIR="$dir" "$bin" -n -l -G -P -f "$conf" \
        -p "$dir/main.pid" -r "$dir/vrrp.pid" -c "$dir/check.pid" >"$dir/log" 2>&1 &
}

# Stops everything in namespace $1: SIGTERM, up to 5 s, then SIGKILL.
stop_ns() {
    local ns=$1 pid _
    for pid in $(ip netns pids "$ns"); do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        [[ -z "$(ip netns pids "$ns")" ]] && return 0
        sleep 0.1
    done
    echo "footprint.sh: $ns did not stop in 5 s after SIGTERM, killing" >&2
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
    sleep 0.2
}

# Number of /32 addresses (the VIPs) on eth0 of namespace $1.
vips_on() { ip -n "$1" -4 -o addr show dev eth0 | grep -c '/32 ' || true; }

# "<procs> <Rss> <Pss> <Pss_Anon> <Pss_File>" (KiB) summed over the processes of namespace $1.
mem_of_ns() {
    local ns=$1 pid n=0 rss=0 pss=0 anon=0 file=0 r p a f
    for pid in $(ip netns pids "$ns"); do
        read -r r p a f < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Pss_Anon:/ { a = $2 }
                                /^Pss_File:/ { f = $2 } END { print r + 0, p + 0, a + 0, f + 0 }' \
            "/proc/$pid/smaps_rollup")
        n=$((n + 1))
        rss=$((rss + r))
        pss=$((pss + p))
        anon=$((anon + a))
        file=$((file + f))
    done
    echo "$n $rss $pss $anon $file"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# One run: implementation $1 (rs|ka), $2 instances, repetition $3. Appends one line per router
# to $TMP/results: "<impl> <n> <role> <procs> <rss> <pss> <anon> <file>".
run_once() {
    local impl=$1 n=$2 rep=$3 bin k ns dir state prio
    for k in 1 2; do
        ns="${P}n$k"
        dir="$TMP/$impl-$n-$rep-n$k"
        mkdir -p "$dir"
        if [[ $impl == rs ]]; then bin="$RS_X86"; else bin="$KA"; fi
        cp "$bin" "$dir/daemon"
        if ((k == 1)); then state=MASTER prio=150; else state=BACKUP prio=100; fi
        gen_conf "$n" "fp$k" "$state" "$prio" >"$dir/keepalived.conf"
        start "$ns" "$dir/daemon" "$dir/keepalived.conf" "$dir"
    done
    sleep "$SETTLE"
    local m1 m2 v1 v2
    v1=$(vips_on "$N1")
    v2=$(vips_on "$N2")
    m1=$(mem_of_ns "$N1")
    m2=$(mem_of_ns "$N2")
    if [[ $v1 != "$n" || $v2 != 0 ]]; then
        echo "footprint.sh: $impl with $n instances not in steady state after $SETTLE s:" \
            "$v1 VIPs on the master, $v2 on the backup; logs in $TMP/$impl-$n-$rep-n*/log:" >&2
        tail -n 5 "$TMP/$impl-$n-$rep-n1/log" "$TMP/$impl-$n-$rep-n2/log" >&2
        return 1
    fi
    stop_ns "$N1"
    stop_ns "$N2"
    for k in 1 2; do
        ns="${P}n$k"
        ip -n "$ns" addr flush dev eth0
        ip -n "$ns" addr add "192.0.2.$k/24" dev eth0
    done
    echo "$impl $n master $m1" >>"$TMP/results"
    echo "$impl $n backup $m2" >>"$TMP/results"
}

echo >&2
for n in 1 64; do
    for impl in rs ka; do
        for ((rep = 1; rep <= REPS; rep++)); do
            echo "memory: $impl, $n instances, run $rep/$REPS ..." >&2
            run_once "$impl" "$n" "$rep" || die "measurement failed"
        done
    done
done

echo
echo "## Resident memory (KiB, median of $REPS runs, $SETTLE s after start, from /proc/PID/smaps_rollup)"
echo
echo "VRRPv3, advert_int 0.1 s, N instances on one interface (distinct VRIDs, one /32 VIP each);"
echo "master priority 150 in one namespace, backup priority 100 in another; \`-n -l -G -P\`;"
echo "sums over every process of the daemon (keepalived: parent + VRRP child)."
echo
printf '| %-17s | %9s | %-6s | %5s | %7s | %7s | %8s | %8s |\n' daemon instances role procs RSS PSS "PSS anon" "PSS file"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "-------------------" "-----------" "--------" "-------" "---------" "---------" "----------" "----------"
for n in 1 64; do
    for impl in rs ka; do
        for role in master backup; do
            if [[ $impl == rs ]]; then name=keepalived-rs; else name="keepalived $KA_VERSION"; fi
            row=()
            for col in 4 5 6 7 8; do
                row+=("$(awk -v i="$impl" -v n="$n" -v r="$role" -v c="$col" \
                    '$1 == i && $2 == n && $3 == r { print $c }' "$TMP/results" | median)")
            done
            printf '| %-17s | %9s | %-6s | %5s | %7s | %7s | %8s | %8s |\n' "$name" "$n" "$role" "${row[@]}"
        done
    done
done
echo
worst=$(awk '$1 == "rs" && $2 == 64 { print $6 }' "$TMP/results" | sort -n | tail -1)
if ((worst < PSS_TARGET_KIB)); then
    echo "Target keepalived-rs PSS with 64 instances < 1 MiB: met (worst run, either role: $worst KiB)."
else
    echo "Target keepalived-rs PSS with 64 instances < 1 MiB: MISSED (worst run, either role: $worst KiB)."
    MISSES+=("PSS with 64 instances")
fi

if ((${#MISSES[@]} > 0)); then
    echo "Missed: ${MISSES[*]}."
    ((STRICT)) && exit 1
fi
exit 0
