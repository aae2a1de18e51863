#!/usr/bin/env bash
# Failover benchmark: keepalived-rs and keepalived in the same run, same lab, same client.
#
# VRRPv3, two routers (priority 100 and 90), one VIP, a client pinging the VIP every 5 ms
# (`ping -D -O -i 0.005`). The outage of a run is the longest gap between two replies around
# the event. Events: the master's link is cut, the master is stopped (SIGTERM). For each
# advert_int and event, BENCH_RUNS runs per implementation; the table shows the medians and
# the protocol bound (cut: 3 x advert_int + Skew_Time; stop: Skew_Time, priority 90).
# Every run puts the event at the same point of the advert cycle (2 x advert_int + 0.2 s after
# the master took the VIP, then the client's first replies), so both columns see the same phase;
# a link cut's outage is Master_Down_Interval minus the time since the master's last advert.
# Then a stability check: advert_int 0.01 for BENCH_STABILITY_SECONDS, counting VIP moves
# and state changes after the election (anything but 0 is a spurious transition), optionally
# with BENCH_STABILITY_LOAD busy loops competing for the CPUs.
#
# Usage: tests/bench/failover.sh [--no-stability | --stability-only]
# Environment:
#   BENCH_RUNS=3                  runs per cell (median)
#   BENCH_INTERVALS="1 0.1 0.05"  advert_int values
#   BENCH_STABILITY_SECONDS=60    length of the stability check
#   BENCH_STABILITY_LOAD=0        busy loops running during the stability check
#   KEEPALIVED_RS_BIN=PATH        the keepalived-rs binary (default: cargo build --release)
#   KEEPALIVED_BIN=PATH           keepalived (default: from PATH)
#   BENCH_KEEP=1                  keep the work directory (configs, logs, ping output)
# Needs root, ip, ping (iputils), keepalived. Everything lives in network namespaces
# kb<pid>{sw,n1,n2,c}, removed on exit.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=tests/lab.sh
. tests/lab.sh

RUNS=${BENCH_RUNS:-3}
INTERVALS=${BENCH_INTERVALS:-"1 0.1 0.05"}
STAB_SECONDS=${BENCH_STABILITY_SECONDS:-60}
VIP=192.0.2.100
P="kb$$"
SW="${P}sw"
MODE=all

case "${1:-}" in
"") ;;
--no-stability) MODE=failover ;;
--stability-only) MODE=stability ;;
*)
    echo "usage: $0 [--no-stability | --stability-only]" >&2
    exit 2
    ;;
esac

die() {
    echo "failover.sh: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, ping -i 0.005)"
for t in ip ping awk; do
    command -v "$t" >/dev/null || die "$t is not installed"
done
KA_BIN=${KEEPALIVED_BIN:-$(command -v keepalived || true)}
if [ -z "$KA_BIN" ] || [ ! -x "$KA_BIN" ]; then die "keepalived is not installed"; fi
if [ -z "${KEEPALIVED_RS_BIN:-}" ]; then
    echo "building keepalived-rs (release)..."
    cargo build --release --quiet || die "cargo build --release failed"
    RS_BIN=$PWD/target/release/keepalived-rs
else
    RS_BIN=$KEEPALIVED_RS_BIN
fi
[ -x "$RS_BIN" ] || die "no keepalived-rs binary at $RS_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/failover-bench.XXXXXX")
PIDS=()

teardown_lab() {
    lab_down "${PIDS[@]}"
    PIDS=()
}

cleanup() {
    teardown_lab
    if [ "${BENCH_KEEP:-}" = 1 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# netns sw with bridge br0; n1 .1, n2 .2, client c .3, each with a veth into the bridge.
setup_lab() { lab_up "$P" n1:1 n2:2 c:3; }

# write_conf FILE PRIORITY ADVERT_INT
write_conf() {
    cat >"$1" <<EOF
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version 3
    priority $2
    advert_int $3
    virtual_ipaddress {
        $VIP/24
    }
}
EOF
}

# start_router BIN NODE PRIORITY ADVERT_INT DIR -> sets ROUTER_PID
start_router() {
    local bin=$1 node=$2 dir=$5
    mkdir -p "$dir/$node.tmp"
    write_conf "$dir/$node.conf" "$3" "$4"
    TMPDIR="$dir/$node.tmp" ip netns exec "$P$node" "$bin" -n -l -f "$dir/$node.conf" \
        -p "$dir/$node.pid" -r "$dir/$node.vrrp.pid" -c "$dir/$node.check.pid" \
        >"$dir/$node.log" 2>&1 &
    ROUTER_PID=$!
    PIDS+=("$ROUTER_PID")
}

holds_vip() { lab_holds "$P$1" "$VIP"; }

# wait_vip NODE SECONDS [PID...]: until NODE holds the VIP (bounded). Returns 1 on timeout,
# 2 as soon as one of the PIDs (the routers) has exited.
wait_vip() {
    local node=$1 end p
    end=$(awk -v s="$2" 'BEGIN { printf "%d", s * 100 }')
    shift 2
    for _ in $(seq "$end"); do
        holds_vip "$node" && return 0
        for p in "$@"; do
            kill -0 "$p" 2>/dev/null || return 2
        done
        sleep 0.01
    done
    return 1
}

now() { date +%s.%N; }

# replies_after FILE T: how many ping replies carry a timestamp after T.
replies_after() {
    awk -v t="$2" '/bytes from/ { ts = substr($1, 2, length($1) - 2) + 0; if (ts > t) n++ }
        END { print n + 0 }' "$1"
}

# max_gap FILE T0: longest gap (ms) between consecutive replies where the later is after T0.
max_gap() {
    awk -v t0="$2" '/bytes from/ {
            ts = substr($1, 2, length($1) - 2) + 0
            if (prev != "" && ts >= t0 && ts - prev > max) max = ts - prev
            prev = ts
        }
        END { printf "%d", max * 1000 }' "$1"
}

# bound_ms ADVERT EVENT: protocol bound for priority 90.
bound_ms() {
    awk -v a="$1" -v e="$2" 'BEGIN {
        skew = (256 - 90) * a / 256
        printf "%d", (e == "cut" ? 3 * a + skew : skew) * 1000 }'
}

# one_run BIN ADVERT EVENT DIR: prints the outage in ms, or FAIL:<reason>.
one_run() {
    local bin=$1 adv=$2 event=$3 dir=$4 limit n1pid n2pid t0 ping_pid
    mkdir -p "$dir"
    setup_lab
    limit=$(awk -v a="$adv" 'BEGIN { printf "%.2f", 3 * a + a + 5 }')
    start_router "$bin" n1 100 "$adv" "$dir"
    n1pid=$ROUTER_PID
    start_router "$bin" n2 90 "$adv" "$dir"
    n2pid=$ROUTER_PID
    local rc=0
    wait_vip n1 "$limit" "$n1pid" "$n2pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        if [ "$rc" -eq 2 ]; then echo "FAIL:daemon-exited"; else echo "FAIL:no-master"; fi
        teardown_lab
        return
    fi
    sleep "$(awk -v a="$adv" 'BEGIN { print 2 * a + 0.2 }')"
    if holds_vip n2 || ! holds_vip n1; then
        echo "FAIL:not-one-master"
        teardown_lab
        return
    fi
    ip netns exec "${P}c" ping -n -D -O -i 0.005 "$VIP" >"$dir/ping.txt" 2>&1 &
    ping_pid=$!
    PIDS+=("$ping_pid")
    for _ in $(seq 300); do
        [ "$(replies_after "$dir/ping.txt" 0)" -ge 20 ] && break
        sleep 0.01
    done
    t0=$(now)
    case "$event" in
    cut) ip -n "$SW" link set "${P}n1" down ;;
    stop) kill -TERM "$n1pid" ;;
    esac
    rc=0
    wait_vip n2 "$limit" "$n2pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        kill -INT "$ping_pid" 2>/dev/null || true
        if [ "$rc" -eq 2 ]; then echo "FAIL:daemon-exited"; else echo "FAIL:no-takeover"; fi
        teardown_lab
        return
    fi
    # Let the client's replies resume (bounded).
    local t1
    t1=$(now)
    for _ in $(seq 300); do
        [ "$(replies_after "$dir/ping.txt" "$t1")" -ge 20 ] && break
        sleep 0.01
    done
    kill -INT "$ping_pid" 2>/dev/null || true
    wait "$ping_pid" 2>/dev/null || true
    if [ "$(replies_after "$dir/ping.txt" "$t1")" -lt 1 ]; then
        echo "FAIL:client-unreachable"
    else
        max_gap "$dir/ping.txt" "$t0"
    fi
    teardown_lab
}

median() {
    tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
              else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cell BIN ADVERT EVENT LABEL: N runs, prints the median (or FAIL...) on stdout; details on stderr.
cell() {
    local bin=$1 adv=$2 event=$3 label=$4 results="" r i fails=0
    for i in $(seq "$RUNS"); do
        r=$(one_run "$bin" "$adv" "$event" "$WORK/$label-$adv-$event-$i")
        echo "  $label advert_int $adv $event run $i: $r" >&2
        case "$r" in
        FAIL*)
            fails=$((fails + 1))
            tail -n 3 "$WORK/$label-$adv-$event-$i/n1.log" 2>/dev/null | sed 's/^/      n1: /' >&2
            ;;
        esac
        results="$results $r"
    done
    if [ "$fails" -eq "$RUNS" ]; then
        echo "FAIL"
    else
        local m
        m=$(echo "$results" | median)
        [ "$fails" -gt 0 ] && m="$m($fails-fail)"
        echo "$m"
    fi
}

failover_table() {
    local rows=() adv event rs ka ratio bound
    for adv in $INTERVALS; do
        for event in cut stop; do
            rs=$(cell "$RS_BIN" "$adv" "$event" rs)
            ka=$(cell "$KA_BIN" "$adv" "$event" ka)
            bound=$(bound_ms "$adv" "$event")
            if [[ $rs =~ ^[0-9]+$ ]] && [[ $ka =~ ^[0-9]+$ ]] && [ "$ka" -gt 0 ]; then
                ratio=$(awk -v a="$rs" -v b="$ka" 'BEGIN { printf "%.2f", a / b }')
            else
                ratio="-"
            fi
            rows+=("$(printf '| %-10s | %-5s | %16s | %13s | %5s | %14s |' \
                "$adv" "$event" "$rs" "$ka" "$ratio" "$bound")")
        done
    done
    echo
    echo "Failover outage (longest gap between ping replies, median of $RUNS runs, ms)"
    echo "keepalived-rs: $RS_BIN"
    echo "keepalived:    $KA_BIN"
    printf '| %-10s | %-5s | %16s | %13s | %5s | %14s |\n' \
        advert_int event "keepalived-rs ms" "keepalived ms" ratio "protocol bound"
    printf '|%s|%s|%s|%s|%s|%s|\n' "------------" "-------" "------------------" \
        "---------------" "-------" "----------------"
    printf '%s\n' "${rows[@]}"
    echo "(protocol bound: cut = 3 x advert_int + Skew_Time, stop = Skew_Time; priority 90)"
}

# stability BIN LABEL: advert_int 0.01 for STAB_SECONDS; prints the number of spurious events.
stability() {
    local bin=$1 label=$2 mon1 mon2 before after moves
    local dir="$WORK/$label-stability"
    mkdir -p "$dir"
    setup_lab
    start_router "$bin" n1 100 0.01 "$dir"
    local n1pid=$ROUTER_PID
    start_router "$bin" n2 90 0.01 "$dir"
    if ! wait_vip n1 5 "$n1pid" "$ROUTER_PID"; then
        echo "$label: FAIL (no master at advert_int 0.01)"
        tail -n 3 "$dir/n1.log" | sed 's/^/      n1: /'
        teardown_lab
        return
    fi
    sleep 1
    local i
    for i in $(seq "${BENCH_STABILITY_LOAD:-0}"); do
        # Inside the client namespace, so the lab's teardown ends them.
        ip netns exec "${P}c" sh -c 'while :; do :; done' &
        PIDS+=("$!")
    done
    if [ "${BENCH_STABILITY_LOAD:-0}" -gt 0 ]; then
        echo "  $label: $BENCH_STABILITY_LOAD busy loops running" >&2
    fi
    ip -o -n "${P}n1" monitor address >"$dir/mon-n1.txt" 2>&1 &
    mon1=$!
    ip -o -n "${P}n2" monitor address >"$dir/mon-n2.txt" 2>&1 &
    mon2=$!
    PIDS+=("$mon1" "$mon2")
    before=$(cat "$dir/n1.log" "$dir/n2.log" | grep -c "Entering .* STATE" || true)
    sleep "$STAB_SECONDS"
    after=$(cat "$dir/n1.log" "$dir/n2.log" | grep -c "Entering .* STATE" || true)
    kill "$mon1" "$mon2" 2>/dev/null || true
    moves=$(cat "$dir/mon-n1.txt" "$dir/mon-n2.txt" | grep -c " $VIP/" || true)
    local alone=no verdict="SPURIOUS TRANSITIONS"
    if holds_vip n1 && ! holds_vip n2; then alone=yes; fi
    if [ "$moves" -eq 0 ] && [ "$after" -eq "$before" ] && [ "$alone" = yes ]; then
        verdict=OK
    fi
    echo "$label: advert_int 0.01 for ${STAB_SECONDS}s: $moves VIP changes," \
        "$((after - before)) state changes logged, VIP still on n1 alone: $alone ($verdict)"
    teardown_lab
}

if [ "$MODE" != stability ]; then
    failover_table
fi
if [ "$MODE" != failover ]; then
    echo
    echo "Stability (VRRPv3, priorities 100/90):"
    stability "$RS_BIN" keepalived-rs
    stability "$KA_BIN" keepalived
fi
