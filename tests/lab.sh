# shellcheck shell=bash
# The namespace lab the shell scripts share (tests/demo.sh, tests/bench/*.sh); the Rust tests
# have their own in tests/common/mod.rs. Source it, then:
#
#   lab_up PREFIX NODE:N...   netns PREFIXsw with bridge br0, and per NODE a netns PREFIXNODE
#                             whose eth0 (192.0.2.N/24) is a veth into the bridge; the names
#                             go to LAB_NS
#   lab_down [PID...]         SIGTERM the PIDs and wait up to 3 s (a stopping master sends
#                             priority 0 and removes its address), kill what is left in the
#                             namespaces of LAB_NS, delete them (and with them the veths)
#   lab_holds NS ADDR         whether netns NS has ADDR on eth0
#
# Only documentation addresses, nothing in the root namespace, no default route.

LAB_NS=()

lab_up() {
    local prefix=$1 node n
    shift
    LAB_NS+=("${prefix}sw")
    ip netns add "${prefix}sw"
    ip -n "${prefix}sw" link set lo up
    ip -n "${prefix}sw" link add br0 type bridge
    # Multicast snooping would hold VRRP multicast back until a querier shows up.
    ip -n "${prefix}sw" link set br0 type bridge mcast_snooping 0
    ip -n "${prefix}sw" link set br0 up
    for node in "$@"; do
        n=${node#*:}
        node=${node%:*}
        LAB_NS+=("$prefix$node")
        ip netns add "$prefix$node"
        ip -n "$prefix$node" link set lo up
        ip -n "${prefix}sw" link add "$prefix$node" type veth peer name eth0 netns "$prefix$node"
        ip -n "${prefix}sw" link set "$prefix$node" master br0 up
        ip -n "$prefix$node" addr add "192.0.2.$n/24" dev eth0
        ip -n "$prefix$node" link set eth0 up
    done
}

lab_down() {
    local p ns alive
    for p in "$@"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for _ in $(seq 60); do
        alive=0
        for p in "$@"; do
            if kill -0 "$p" 2>/dev/null; then alive=1; fi
        done
        [ "$alive" -eq 0 ] && break
        sleep 0.05
    done
    for ns in "${LAB_NS[@]}"; do
        [ -e "/run/netns/$ns" ] || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill -9 "$p" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    for p in "$@"; do
        wait "$p" 2>/dev/null || true
    done
    LAB_NS=()
}

lab_holds() {
    ip -n "$1" -o -4 addr show dev eth0 2>/dev/null | grep -q " $2/"
}
