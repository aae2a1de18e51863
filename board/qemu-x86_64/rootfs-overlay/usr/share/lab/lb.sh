# shellcheck shell=sh
# shellcheck disable=SC2034 # LB_MS and LB_FAILED are results for the scenarios
# Load-balancer lab inside the VM (busybox sh), for the scenarios/lb-*.sh
# scenarios. The VM is the director; real servers and a client are network
# namespaces (held by "unshare -n sleep"), each with a veth pair:
#
#   client ns "cl"  eth0 203.0.113.2/24 ── h-cl  203.0.113.1/24 ┐
#                   route 192.0.2.0/24 via 203.0.113.1          │ director (root ns)
#   real server ns  eth0 198.51.100.N/24 ── bridge lbr0          │ eth0 192.0.2.10/24
#   "NAME"          198.51.100.1/24, route 203.0.113.0/24        │ + VIP 192.0.2.100 (VRRP)
#                   via 198.51.100.1 (the NAT reply path)        ┘ ip_forward=1
#
# No default routes, documentation addresses only. Each real server is a
# busybox httpd whose page names it (/index.html: "served by NAME").
#
#   . /usr/share/lab/lib.sh; . /usr/share/lab/lb.sh
#   lb_setup                      modules, bridge, client, forwarding, cleanup trap
#   lb_server NAME ADDR           a namespace on the bridge
#   lb_veth NAME IFACE ADDR HOST  one more link for namespace NAME: IFACE = ADDR/24
#                                 there, HOST (up, no address) in the root namespace
#   lb_httpd NAME ADDR PORT [LOG] start its httpd (again: "revive"); with LOG, its
#                                 stderr goes there with -vvv: "IP:PORT: connected"
#                                 per accepted connection, so a test can count who
#                                 connected (TCP_CHECK or HTTP_GET alike)
#   lb_kill NAME                  kill its httpd (connections are refused at once)
#   lb_dr_vip NAME VIP            make NAME a direct-routing (DR) real server of VIP:
#                                 VIP/32 on its lo, arp_ignore=1, arp_announce=2
#   lb_in NAME CMD...             run CMD in namespace NAME
#   lb_get URL                    one request from the client: the page, or nothing
#   lb_traffic N URL              N requests; sets LB_FAILED (requests without a page)
#   lb_tally, lb_count NAME       who answered them: "NAME COUNT" lines; NAME's count
#   lb_dests VIP PORT [PROTO]     the service's lines of /proc/net/ip_vs as
#                                 "ADDR:PORT FWD WEIGHT ACTIVE INACT", in kernel order
#                                 (IPVS is per network namespace: with LB_NS=NAME,
#                                 lb_dests, lb_dest_list, lb_has_service and lb_weight
#                                 read namespace NAME's table)
#   lb_has_service VIP PORT       /proc/net/ip_vs lists the service
#   lb_weight VIP PORT ADDR RPORT the destination's weight ("" when absent)
#   lb_time_dest gone|there ADDR RPORT SECS [WEIGHT]   wait until a destination
#                                 (of any service; with WEIGHT: with that weight)
#                                 leaves or enters /proc/net/ip_vs, polling with one
#                                 grep every 50 ms; LB_MS = the time taken
# Every wait is bounded by the caller (wait_for) or by timeout(1) (busybox
# 1.35's wget -T crashes, so a request is bounded by timeout 5).

LB_DIR=/tmp/lb
LB_FAILED=0

# dotted quad -> the upper-case hex /proc/net/ip_vs prints (192.0.2.100 -> C0000264)
lb_hex() {
	echo "$1" | awk -F. '{ printf "%02X%02X%02X%02X", $1, $2, $3, $4 }'
}

lb_unhex() { # C0000264 -> 192.0.2.100
	printf '%d.%d.%d.%d' "0x$(echo "$1" | cut -c1-2)" "0x$(echo "$1" | cut -c3-4)" \
		"0x$(echo "$1" | cut -c5-6)" "0x$(echo "$1" | cut -c7-8)"
}

lb_pid() { cat "$LB_DIR/$1.ns"; }

lb_in() { # NAME CMD...
	_lb_n=$1
	shift
	nsenter -t "$(lb_pid "$_lb_n")" -n "$@"
}

# A new namespace NAME with eth0 = ADDR/24, the veth's other end HOST in the
# root namespace (returned in LB_HOSTDEV, not configured).
lb_ns() { # NAME ADDR HOST
	unshare -n sleep 3600 &
	echo "$!" >"$LB_DIR/$1.ns"
	_lb_i=0
	# The namespace exists once unshare has exec'ed sleep.
	while [ "$(readlink "/proc/$!/ns/net")" = "$(readlink /proc/self/ns/net)" ] && [ "$_lb_i" -lt 50 ]; do
		sleep 0.1
		_lb_i=$((_lb_i + 1))
	done
	lb_veth "$1" eth0 "$2" "$3" && lb_in "$1" ip link set lo up
}

lb_veth() { # NAME IFACE ADDR HOST
	# busybox ip ignores "peer name": the peer is the one veth* left in the root
	# namespace (every earlier one was moved away right after creation).
	ip link add "$4" type veth || return 1
	_lb_peer=
	for _lb_dev in /sys/class/net/veth*; do
		[ -e "$_lb_dev" ] && _lb_peer=${_lb_dev##*/}
	done
	[ -n "$_lb_peer" ] || return 1
	ip link set "$_lb_peer" netns "$(lb_pid "$1")" &&
		lb_in "$1" ip link set "$_lb_peer" name "$2" &&
		lb_in "$1" ip addr add "$3/24" dev "$2" &&
		lb_in "$1" ip link set "$2" up &&
		ip link set "$4" up
}

lb_server() { # NAME ADDR
	lb_ns "$1" "$2" "h-$1" &&
		brctl addif lbr0 "h-$1" &&
		lb_in "$1" ip route add 203.0.113.0/24 via 198.51.100.1 &&
		mkdir -p "$LB_DIR/www-$1" &&
		echo "served by $1" >"$LB_DIR/www-$1/index.html"
}

lb_httpd() { # NAME ADDR PORT [LOG]
	if [ -n "${4:-}" ]; then
		nsenter -t "$(lb_pid "$1")" -n busybox httpd -f -vvv -p "$2:$3" -h "$LB_DIR/www-$1" \
			2>>"$4" &
	else
		nsenter -t "$(lb_pid "$1")" -n busybox httpd -f -p "$2:$3" -h "$LB_DIR/www-$1" &
	fi
	echo "$!" >"$LB_DIR/$1.httpd"
	# Bounded: listening within 5 s.
	_lb_i=0
	until lb_in "$1" netstat -ltn 2>/dev/null | grep -q " $2:$3 "; do
		_lb_i=$((_lb_i + 1))
		[ "$_lb_i" -lt 50 ] || return 1
		sleep 0.1
	done
}

# DR: the director passes the client's packets on unchanged (to the real
# server's MAC), so the real server must hold the VIP to accept them; on lo, and
# without answering ARP for it (arp_ignore=1: only for addresses of the
# interface asked on) or naming it in its own ARP requests (arp_announce=2), so
# that on a shared segment only the director is reached at the VIP.
lb_dr_vip() { # NAME VIP
	lb_in "$1" ip addr add "$2/32" dev lo || return 1
	for _lb_c in all eth0; do
		lb_in "$1" sysctl -w "net.ipv4.conf.$_lb_c.arp_ignore=1" \
			"net.ipv4.conf.$_lb_c.arp_announce=2" >/dev/null || return 1
	done
}

lb_kill() { # NAME
	[ -f "$LB_DIR/$1.httpd" ] || return 1
	kill "$(cat "$LB_DIR/$1.httpd")" && rm -f "$LB_DIR/$1.httpd"
}

lb_setup() {
	mkdir -p "$LB_DIR"
	trap lb_cleanup EXIT
	modprobe crc32c_generic && modprobe ip_vs && modprobe veth && modprobe bridge || return 1
	echo 1 >/proc/sys/net/ipv4/ip_forward
	brctl addbr lbr0 && ip addr add 198.51.100.1/24 dev lbr0 && ip link set lbr0 up || return 1
	lb_ns cl 203.0.113.2 h-cl &&
		ip addr add 203.0.113.1/24 dev h-cl &&
		lb_in cl ip route add 192.0.2.0/24 via 203.0.113.1
}

lb_cleanup() {
	# *.pid: daemons a scenario started in the namespaces (their pidfiles).
	for f in "$LB_DIR"/*.pid "$LB_DIR"/*.httpd "$LB_DIR"/*.ns; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	for _lb_dev in /sys/class/net/h-*; do
		[ -e "$_lb_dev" ] && ip link del "${_lb_dev##*/}" 2>/dev/null
	done
	ip link set lbr0 down 2>/dev/null
	brctl delbr lbr0 2>/dev/null
	rm -rf "$LB_DIR"
}

lb_get() { # URL: the page, or nothing (and status 1)
	lb_in cl timeout 5 wget -q -O - "$1" 2>/dev/null
}

# N requests from the client; LB_FAILED = how many got no page. lb_tally
# then prints "NAME COUNT" per server that answered, sorted by name.
lb_traffic() { # N URL
	LB_FAILED=0
	: >"$LB_DIR/traffic"
	_lb_i=0
	while [ "$_lb_i" -lt "$1" ]; do
		_lb_page=$(lb_get "$2")
		case "$_lb_page" in
			"served by "*) echo "${_lb_page#served by }" >>"$LB_DIR/traffic" ;;
			*) LB_FAILED=$((LB_FAILED + 1)) ;;
		esac
		_lb_i=$((_lb_i + 1))
	done
}

lb_tally() {
	sort "$LB_DIR/traffic" | uniq -c | while read -r _lb_c _lb_name; do
		echo "$_lb_name $_lb_c"
	done
}

# How many of the last lb_traffic's requests NAME answered.
lb_count() { # NAME
	grep -cx "$1" "$LB_DIR/traffic"
}

# /proc/net/ip_vs of the root namespace, or of namespace $LB_NS when set (the
# file shows the table of the reader's network namespace).
lb_table() {
	if [ -n "${LB_NS:-}" ]; then
		lb_in "$LB_NS" cat /proc/net/ip_vs
	else
		cat /proc/net/ip_vs
	fi
}

# The destinations of service VIP:PORT in /proc/net/ip_vs, in the kernel's order:
# "ADDR:PORT FORWARD WEIGHT ACTIVECONN INACTCONN".
lb_dests() { # VIP PORT [PROTO]
	_lb_key="${3:-TCP}  $(lb_hex "$1"):$(printf %04X "$2") "
	lb_table | awk -v key="$_lb_key" '
		index($0, key) == 1 { on = 1; next }
		/^[A-Z]/ { on = 0 }
		on && $1 == "->" { print $2, $3, $4, $5, $6 }' |
		while read -r ap fwd w act inact; do
			echo "$(lb_unhex "${ap%:*}"):$(printf %d "0x${ap#*:}") $fwd $w $act $inact"
		done
}

lb_has_service() { # VIP PORT [PROTO]
	lb_table | grep -q "^${3:-TCP}  $(lb_hex "$1"):$(printf %04X "$2") "
}

lb_weight() { # VIP PORT ADDR RPORT
	lb_dests "$1" "$2" | awk -v d="$3:$4" '$1 == d { print $3 }'
}

# The addresses of the destinations, one line, kernel order.
lb_dest_list() { # VIP PORT
	lb_dests "$1" "$2" | awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

# Cheap enough to time with: one grep per poll (the awk/printf of lb_dests
# takes hundreds of ms under TCG). LB_MS counts from the call.
lb_time_dest() { # gone|there ADDR RPORT SECS [WEIGHT]
	_lb_pat="-> $(lb_hex "$2"):$(printf %04X "$3") "
	[ -n "${5:-}" ] && _lb_pat="$_lb_pat +[A-Za-z]+ +$5 "
	_lb_t0=$(now_ms)
	_lb_i=$(($4 * 20))
	while :; do
		if grep -Eq -e "$_lb_pat" /proc/net/ip_vs; then
			[ "$1" = there ] && break
		else
			[ "$1" = gone ] && break
		fi
		_lb_i=$((_lb_i - 1))
		[ "$_lb_i" -gt 0 ] || {
			LB_MS=$(($(now_ms) - _lb_t0))
			return 1
		}
		sleep 0.05
	done
	LB_MS=$(($(now_ms) - _lb_t0))
}
