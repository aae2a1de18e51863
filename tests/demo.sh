#!/usr/bin/env bash
# Failover demo: two keepalived-rs routers share the virtual address 192.0.2.100.
#
#   sudo tests/demo.sh
#
# It builds keepalived-rs, puts two routers and a client in network namespaces joined by a
# bridge, shows which router holds the address, cuts the master's link (the backup takes
# over), restores it (the master, with the higher priority, takes the address back), and
# removes everything it created. KEEPALIVED_RS_BIN=PATH runs another binary (for instance
# /usr/sbin/keepalived, to compare). Needs root, ip and ping.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/lab.sh
. tests/lab.sh

VIP=192.0.2.100
P="kd$$"
SW="${P}sw"
WORK=""
PIDS=()

say() { printf '\n== %s\n' "$*"; }
die() {
    echo "demo: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (it creates network namespaces)"
tests/setup.sh demo
command -v ip >/dev/null || die "ip (iproute2) is not installed"
command -v ping >/dev/null || die "ping (iputils-ping) is not installed"

if [ -n "${KEEPALIVED_RS_BIN:-}" ]; then
    BIN=$KEEPALIVED_RS_BIN
else
    say "Building keepalived-rs (cargo build --release)"
    cargo build --release --quiet
    BIN=$PWD/target/release/keepalived-rs
fi
[ -x "$BIN" ] || die "no binary at $BIN"

cleanup() {
    lab_down "${PIDS[@]}"
    if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
    echo
    echo "Cleaned up: routers stopped, namespaces removed."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keepalived-rs-demo.XXXXXX")

say "Building the network: a switch, router1 (192.0.2.1), router2 (192.0.2.2), a client (192.0.2.3)"
lab_up "$P" n1:1 n2:2 c:3

conf() {
    cat <<EOF
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority $1
    advert_int 1
    virtual_ipaddress {
        $VIP/24
    }
}
EOF
}
conf 100 >"$WORK/n1.conf"
conf 90 >"$WORK/n2.conf"
say "router1 runs with priority 100, router2 with priority 90. router1's keepalived.conf:"
cat "$WORK/n1.conf"

start() {
    mkdir -p "$WORK/$1.tmp"
    TMPDIR="$WORK/$1.tmp" ip netns exec "$P$1" "$BIN" -n -l -f "$WORK/$1.conf" \
        -p "$WORK/$1.pid" -r "$WORK/$1.vrrp.pid" -c "$WORK/$1.check.pid" \
        >"$WORK/$1.log" 2>&1 &
    PIDS+=("$!")
}

holds() { lab_holds "$P$1" "$VIP"; }

show() {
    local n
    for n in n1 n2; do
        if holds "$n"; then
            echo "   router${n#n}: holds $VIP"
        else
            echo "   router${n#n}: -"
        fi
    done
    if ip netns exec "${P}c" ping -n -q -c 1 -W 1 "$VIP" >/dev/null 2>&1; then
        echo "   client: ping $VIP answered"
    else
        echo "   client: ping $VIP not answered"
    fi
}

# wait_for NODE: until NODE alone holds the VIP (at most 15 s); prints how long it took.
wait_for() {
    local other=n2 start end
    [ "$1" = n2 ] && other=n1
    start=$(date +%s%N)
    for _ in $(seq 1500); do
        if holds "$1" && ! holds "$other"; then
            end=$(date +%s%N)
            echo "   ... router${1#n} alone holds $VIP after $(((end - start) / 1000000)) ms"
            return 0
        fi
        for p in "${PIDS[@]}"; do
            kill -0 "$p" 2>/dev/null || {
                echo "   a router exited; its log:"
                tail -n 5 "$WORK"/n?.log | sed 's/^/     /'
                return 1
            }
        done
        sleep 0.01
    done
    echo "   ... router${1#n} did not take $VIP within 15 s"
    return 1
}

say "Starting both routers ($BIN). They elect a master (about 3.6 s: 3 adverts + skew)."
start n1
start n2
wait_for n1 || die "no master elected"
show

say "Cutting router1's link (the switch port goes down). router2 hears no adverts and takes over after 3 x 1 s + skew."
ip -n "$SW" link set "${P}n1" down
wait_for n2 || die "router2 did not take over"
show

say "Restoring router1's link. router1 has the higher priority, so it preempts router2."
ip -n "$SW" link set "${P}n1" up
wait_for n1 || die "router1 did not take the address back"
show

say "What the routers logged:"
for n in n1 n2; do
    grep -E "Entering|FAULT" "$WORK/$n.log" | sed "s/^/   router${n#n}: /" || true
done
