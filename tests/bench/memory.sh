#!/bin/bash
# Memory of the load balancer's configuration: a daemon loading N real servers (TCP_CHECK each,
# the configuration of tests/bench/lb.sh: N/100 virtual servers of 100 real servers), measured
# after it settles and again after one SIGHUP of the unchanged file.
#
# Usage: tests/bench/memory.sh [N...]   (root; default N: 1000 10000)
# Environment: MEMORY_BIN (default: the static musl release build,
#   $CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/keepalived-rs, built by
#   `RUSTFLAGS="-C relocation-model=static -C force-frame-pointers=yes"
#   cargo build --release --target x86_64-unknown-linux-musl`), MEMORY_SETTLE (seconds, 5).
#
# Each daemon runs with `-n -l` in a fresh network namespace whose only link is `lb0`
# (192.0.2.1/24, a veth whose peer has no address, with a route to 198.51.100.0/24): nobody
# answers for the real servers, so each check waits for ARP or its timeout; only memory counts.
# Columns (KiB, summed over the processes in the namespace): VmHWM and VmRSS from
# /proc/PID/status, Pss and Anonymous from /proc/PID/smaps_rollup; "/srv" divides by N (B).
set -euo pipefail

cd "$(dirname "$0")/../.."
SETTLE=${MEMORY_SETTLE:-5}
BIN=${MEMORY_BIN:-${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/keepalived-rs}
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(1000 10000)

die() {
    echo "memory.sh: $*" >&2
    exit 1
}
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
[[ -x $BIN ]] || die "no binary $BIN (see the usage at the top)"
[[ $SETTLE =~ ^[1-9][0-9]?$ ]] || die "MEMORY_SETTLE must be 1..99"
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*00$ && $n -le 25400 ]] || die "N must be a multiple of 100, at most 25400"
done

NS="kmem$$"
TMP=$(mktemp -d /tmp/memory.XXXXXX)
cleanup() {
    local p
    if [[ -e /run/netns/$NS ]]; then
        for p in $(ip netns pids "$NS" 2>/dev/null); do
            kill -9 "$p" 2>/dev/null || true
        done
        ip netns del "$NS" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# gen_conf N: tests/bench/lb.sh's configuration, on lb0.
gen_conf() {
    local n=$1 s r
    printf 'global_defs {\n    router_id memory\n    vrrp_version 3\n}\n'
    printf 'vrrp_instance VI_1 {\n    state MASTER\n    interface lb0\n    virtual_router_id 51\n'
    printf '    priority 150\n    advert_int 1\n    virtual_ipaddress {\n        203.0.113.100/32\n    }\n}\n'
    for ((s = 1; s <= n / 100; s++)); do
        printf 'virtual_server 192.0.2.100 %d {\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n' $((10000 + s))
        for ((r = 1; r <= 100; r++)); do
            printf '    real_server 198.51.100.%d %d {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n' \
                "$r" $((10000 + s))
        done
        printf '}\n'
    done
}

# sum_kib PIDS...: "HWM RSS PSS ANON" in KiB over the processes.
sum_kib() {
    local p hwm=0 rss=0 pss=0 anon=0 v
    for p in "$@"; do
        v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status")
        hwm=$((hwm + v))
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")
        rss=$((rss + v))
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")
        pss=$((pss + v))
        v=$(awk '/^Anonymous:/ { print $2 }' "/proc/$p/smaps_rollup")
        anon=$((anon + v))
    done
    echo "$hwm $rss $pss $anon"
}

# row DAEMON N WHEN "HWM RSS PSS ANON"
row() {
    local hwm rss pss anon
    read -r hwm rss pss anon <<<"$4"
    printf '| %s | %d | %s | %d | %d | %d | %d | %d | %d | %d |\n' "$1" "$2" "$3" \
        "$hwm" $((hwm * 1024 / $2)) "$rss" $((rss * 1024 / $2)) "$pss" $((pss * 1024 / $2)) "$anon"
}

# measure DAEMON N: starts it in a fresh namespace, prints its two rows.
measure() {
    local daemon=$1 n=$2 conf=$TMP/lb-$1-$2.conf log=$TMP/$1-$2.log pid pids i
    gen_conf "$n" >"$conf"
    ip netns add "$NS"
    ip -n "$NS" link set lo up
    ip -n "$NS" link add lb0 type veth peer name lb1
    ip -n "$NS" addr add 192.0.2.1/24 dev lb0
    ip -n "$NS" link set lb1 up
    ip -n "$NS" link set lb0 up
    ip -n "$NS" route add 198.51.100.0/24 dev lb0
    ip netns exec "$NS" "$BIN" -n -l -f "$conf" -p "$TMP/rs.pid" >"$log" 2>&1 &
    pid=$!
    sleep "$SETTLE"
    kill -0 "$pid" 2>/dev/null || { grep -iE "error|fatal|ipvs|cannot|fail" "$log" | head -20 >&2; die "$daemon exited early"; }
    mapfile -t pids < <(ip netns pids "$NS")
    row "$daemon" "$n" start "$(sum_kib "${pids[@]}")"
    # One reload of the unchanged file: the old and the new configuration side by side.
    : >"$log"
    kill -HUP "$pid"
    for ((i = 0; i < 200; i++)); do
        grep -qE 'Reload done|Reload refused' "$log" && break
        sleep 0.1
    done
    grep -q 'Reload refused' "$log" && die "$daemon refused the reload: $(grep 'Reload refused' "$log")"
    sleep "$SETTLE"
    mapfile -t pids < <(ip netns pids "$NS")
    row "$daemon" "$n" reload "$(sum_kib "${pids[@]}")"
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    for p in $(ip netns pids "$NS" 2>/dev/null); do
        kill -9 "$p" 2>/dev/null || true
    done
    wait "$pid" 2>/dev/null || true
    ip netns del "$NS"
}

echo "| daemon | real servers | after | VmHWM KiB | B/srv | VmRSS KiB | B/srv | PSS KiB | B/srv | anon KiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in "${SIZES[@]}"; do
    measure keepalived-rs "$n"
done
