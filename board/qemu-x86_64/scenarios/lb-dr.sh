#!/bin/sh
# The seed documents' LVS examples (lb_algo rr, lb_kind DR, TCP_CHECK with
# nb_get_retry 3, delay_before_retry 3, connect_timeout 3, delay_loop 6) against
# the kernel's IPVS with direct routing, as copied into lb-dr.conf (its header
# says from where and how the addresses were mapped):
#   VS 1 192.0.2.200:80 (seeds/003): rs112 198.51.100.112, rs114 198.51.100.114
#   VS 2 192.0.2.188:80 (seeds/001): rs103 198.51.100.103, rs105 198.51.100.105
# The VIPs are held by the VRRP instance on eth0. The real servers are
# namespaces on the bridge lbr0 (see /usr/share/lab/lb.sh), each with its VS's
# VIP on lo, arp_ignore=1 and arp_announce=2, and a busybox httpd on every
# address (port 80: the VIP for the traffic, its own address for TCP_CHECK).
# Path of a request: client (203.0.113.2) -> director (VIP on eth0) -> IPVS
# passes the packet on unchanged to the real server's MAC on lbr0 -> the real
# server answers from the VIP, routing 203.0.113.0/24 via 198.51.100.1, the
# director as a plain router (no default routes anywhere).
# Checks: -t reports the seeds' mistakes (exit 5); the kernel's table holds both
# services, each destination "Route" (DR); no real server answers ARP for a VIP
# on lbr0; requests through each VIP reach both of its servers (rr); rs112 and
# rs105 killed leave the table within their retry budget (timed) and the
# requests then reach only the other server; revived, they are back (timed) and
# answer again; SIGTERM takes both services out of the kernel.
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lb.sh

VIP1=192.0.2.200
VIP2=192.0.2.188
CONF=/etc/keepalived/keepalived.conf
# Retry budget of a killed server: nb_get_retry 3 x delay_before_retry 3 +
# connect_timeout 3 + delay_loop 6 = 18 s (a refused connection fails at once,
# so 15 s at most is expected). Back: at the next check, within delay_loop 6 s.
# Slack for TCG on a shared host: 3 s.
BUDGET_MS=18000
BACK_MS=6000
SLACK_MS=3000

check "lab: bridge lbr0, client namespace, ip_forward" lb_setup
# The real servers' replies come back through lbr0 with the VIP as their
# source, an address of the director's own: without accept_local the director
# drops them as martians, and the reverse-path filter would too.
director_sysctls() {
	echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter &&
		echo 0 >/proc/sys/net/ipv4/conf/lbr0/rp_filter &&
		echo 1 >/proc/sys/net/ipv4/conf/lbr0/accept_local
}
check "director: rp_filter 0, accept_local 1 on lbr0" director_sysctls
server() { # NAME ADDR VIP
	check "real server $1 at $2, DR for $3 (VIP on lo, arp_ignore 1, arp_announce 2)" \
		lb_server_dr "$1" "$2" "$3"
	check "busybox httpd on $1, every address, port 80" lb_httpd "$1" 0.0.0.0 80
}
lb_server_dr() { lb_server "$1" "$2" && lb_dr_vip "$1" "$3"; }
server rs112 198.51.100.112 "$VIP1"
server rs114 198.51.100.114 "$VIP1"
server rs103 198.51.100.103 "$VIP2"
server rs105 198.51.100.105 "$VIP2"

# --- the configuration ---------------------------------------------------------
cp /scenarios/lb-dr.conf "$CONF"
tout=$(keepalived-rs -t -f "$CONF" 2>&1)
trc=$?
echo "$tout" | sed 's/^/     /'
# keepalived reports both as configuration errors and runs the file.
check "keepalived-rs -t: exit 5 (got $trc)" [ "$trc" = 5 ]
tout_has() { echo "$tout" | grep -q "$1"; }
check "-t: persistence_timeout 0 reported" \
	tout_has 'keepalived.conf:[0-9]*: persistence_timeout: 0 is not a timeout, not persistent'
check "-t: each of the 4 nb_get_retry reported" \
	[ "$(echo "$tout" | grep -c 'nb_get_retry: is deprecated, use retry')" = 4 ]
check "-t: nothing else but nat_mask (no effect) and auth_pass (8 characters)" \
	[ "$(echo "$tout" | grep -v -e nb_get_retry -e persistence_timeout -e 'nat_mask: has no effect' \
		-e 'auth_pass: truncated to 8 characters' | grep -c .)" = 0 ]

check "$INIT restart with it" "$INIT" restart
wait_for 15 "VRRP master: VIP $VIP1 on eth0" has_addr eth0 "$VIP1"
wait_for 5 "VRRP master: VIP $VIP2 on eth0" has_addr eth0 "$VIP2"
wait_for 10 "the kernel has TCP $VIP1:80" lb_has_service "$VIP1" 80
wait_for 10 "the kernel has TCP $VIP2:80" lb_has_service "$VIP2" 80

dest_set() { lb_dest_list "$1" 80 | tr ' ' '\n' | sort | tr '\n' ' '; }
only() { [ "$(dest_set "$1")" = "$2" ]; }
ALL1="198.51.100.112:80 198.51.100.114:80 "
ALL2="198.51.100.103:80 198.51.100.105:80 "
wait_for 10 "$VIP1:80 holds rs112 and rs114" only "$VIP1" "$ALL1"
wait_for 10 "$VIP2:80 holds rs103 and rs105" only "$VIP2" "$ALL2"
for v in "$VIP1" "$VIP2"; do
	echo "     $v:80 in /proc/net/ip_vs:"
	lb_dests "$v" 80 | sed 's/^/       /'
done
sched_rr() { grep -q "^TCP  $(lb_hex "$1"):0050 rr *$" /proc/net/ip_vs; }
route_w1() { [ "$(lb_dests "$1" 80 | awk '$2 == "Route" && $3 == 1' | wc -l)" = 2 ]; }
for v in "$VIP1" "$VIP2"; do
	check "$v:80: scheduler rr, not persistent" sched_rr "$v"
	check "$v:80: both destinations Route (DR), weight 1" route_w1 "$v"
done

# --- ARP on the real servers' segment --------------------------------------------
# The director asks on lbr0 (as a router on a shared segment would): a real
# server answers for its own address, none for a VIP.
arp_replies() { arping -I lbr0 -s 198.51.100.1 -c 2 -w 3 "$1" 2>&1 | grep -c 'reply from'; }
check "ARP on lbr0: rs112 answers for 198.51.100.112" [ "$(arp_replies 198.51.100.112)" -gt 0 ]
for v in "$VIP1" "$VIP2"; do
	n=$(arp_replies "$v")
	check "ARP on lbr0: nobody answers for $v ($n replies)" [ "$n" = 0 ]
done

# --- traffic through the VIPs ---------------------------------------------------
N=6
traffic() { # VIP: N requests, then the tally
	lb_traffic "$N" "http://$1/"
	echo "     $N requests to $1: $(lb_tally | tr '\n' ' ')"
}
answered_by() { # SERVER... : all N requests answered, each SERVER some, nobody else
	_sum=0
	for _s in "$@"; do
		[ "$(lb_count "$_s")" -gt 0 ] || return 1
		_sum=$((_sum + $(lb_count "$_s")))
	done
	[ "$LB_FAILED" = 0 ] && [ "$_sum" = "$N" ]
}
traffic "$VIP1"
check "$VIP1: all $N answered, by rs112 and rs114 (rr), nobody else" answered_by rs112 rs114
traffic "$VIP2"
check "$VIP2: all $N answered, by rs103 and rs105 (rr), nobody else" answered_by rs103 rs105

# --- kill rs112 and rs105 -------------------------------------------------------
t0=$(now_ms)
within() { [ "$1" -le "$3" ] && [ "$2" -le "$3" ]; }
check "kill rs112's httpd" lb_kill rs112
check "kill rs105's httpd" lb_kill rs105
check "rs112 leaves /proc/net/ip_vs" lb_time_dest gone 198.51.100.112 80 30
GONE112=$(($(now_ms) - t0))
check "rs105 leaves /proc/net/ip_vs" lb_time_dest gone 198.51.100.105 80 30
GONE105=$(($(now_ms) - t0))
echo "     out of the table after the kill: rs112 $GONE112 ms, rs105 $GONE105 ms" \
	"(budget $BUDGET_MS ms + slack $SLACK_MS ms)"
check "both within the retry budget" within "$GONE112" "$GONE105" $((BUDGET_MS + SLACK_MS))
check "$VIP1:80 holds rs114 alone" only "$VIP1" "198.51.100.114:80 "
check "$VIP2:80 holds rs103 alone" only "$VIP2" "198.51.100.103:80 "
check "log: rs112 removed" log_has "Removing service \[198.51.100.112\]:80 from VS"
check "log: rs105 removed" log_has "Removing service \[198.51.100.105\]:80 from VS"
traffic "$VIP1"
check "$VIP1 with rs112 dead: all $N answered, by rs114 alone" answered_by rs114
traffic "$VIP2"
check "$VIP2 with rs105 dead: all $N answered, by rs103 alone" answered_by rs103

# --- revive them ----------------------------------------------------------------
t0=$(now_ms)
check "revive rs112's httpd" lb_httpd rs112 0.0.0.0 80
check "revive rs105's httpd" lb_httpd rs105 0.0.0.0 80
check "rs112 back in /proc/net/ip_vs" lb_time_dest there 198.51.100.112 80 20
BACK112=$(($(now_ms) - t0))
check "rs105 back in /proc/net/ip_vs" lb_time_dest there 198.51.100.105 80 20
BACK105=$(($(now_ms) - t0))
echo "     back after the revive: rs112 $BACK112 ms, rs105 $BACK105 ms" \
	"(the next check, within delay_loop $BACK_MS ms + slack $SLACK_MS ms)"
check "both back within delay_loop" within "$BACK112" "$BACK105" $((BACK_MS + SLACK_MS))
check "$VIP1:80 holds rs112 and rs114 again" only "$VIP1" "$ALL1"
check "$VIP2:80 holds rs103 and rs105 again" only "$VIP2" "$ALL2"
check "$VIP1:80: both Route, weight 1 again" route_w1 "$VIP1"
traffic "$VIP1"
check "$VIP1: all $N answered, by rs112 and rs114 again" answered_by rs112 rs114
traffic "$VIP2"
check "$VIP2: all $N answered, by rs103 and rs105 again" answered_by rs103 rs105
check "daemon still running" daemon_running
check "VRRP still master ($VIP1 on eth0)" has_addr eth0 "$VIP1"

# --- SIGTERM --------------------------------------------------------------------
check "$INIT stop (SIGTERM)" "$INIT" stop
check "$VIP1:80 is gone from /proc/net/ip_vs" sh -c "! grep -q '^TCP  $(lb_hex "$VIP1"):0050 ' /proc/net/ip_vs"
check "$VIP2:80 is gone from /proc/net/ip_vs" sh -c "! grep -q '^TCP  $(lb_hex "$VIP2"):0050 ' /proc/net/ip_vs"

echo "     daemon's load-balancer lines:"
grep -E 'service|IPVS|TCP_CHECK' /var/log/messages | sed 's/^/       /' | tail -n 20
echo "     times: out after kill rs112 $GONE112 ms, rs105 $GONE105 ms;" \
	"back after revive rs112 $BACK112 ms, rs105 $BACK105 ms"
finish
