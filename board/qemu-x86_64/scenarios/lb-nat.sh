#!/bin/sh
# keepalived-rs programs the kernel's IPVS (NAT) from its health checkers, and
# real traffic follows: one virtual server on the VRRP VIP 192.0.2.100:80, five
# real servers in namespaces behind the bridge lbr0 (see /usr/share/lab/lb.sh):
#   rs1 HTTP_GET status + digest, rs2 TCP_CHECK, rs3 HTTP_GET status,
#   rs4 HTTP_GET with a digest its page does not have, rs5 never started.
# Checks: the kernel's table holds rs1-rs3 only; a client's requests reach only
# them; rs2 killed leaves the table within its retry budget (timed) and no
# request fails or reaches it; revived, it is back; a SIGHUP changing rs3's
# weight changes only that (same destinations in the same kernel order, the
# others' connection counters kept, failed servers still out); SIGTERM takes
# the service out of the kernel.
# NAT: replies must cross the director, so the real servers route the client's
# subnet 203.0.113.0/24 via 198.51.100.1 (no default routes anywhere).
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lb.sh

VIP=192.0.2.100
URL=http://$VIP/
CONF=/etc/keepalived/keepalived.conf
# Retry budget of a killed server: the next check comes within delay_loop (1 s),
# then retry (1) more attempt after delay_before_retry (1 s); a refused
# connection fails at once. Slack for TCG on a shared host: 2 s.
BUDGET_MS=2000
SLACK_MS=2000

check "lab: bridge lbr0, client namespace, ip_forward" lb_setup
for n in 1 2 3 4 5; do
	check "real server rs$n at 198.51.100.1$n" lb_server "rs$n" "198.51.100.1$n"
done
for n in 1 2 3 4; do
	check "busybox httpd on rs$n" lb_httpd "rs$n" "198.51.100.1$n" 80
done

digest() { md5sum | cut -d' ' -f1; }
D1=$(digest <"$LB_DIR/www-rs1/index.html")
DOTHER=$(echo "not the page of rs4" | digest)
conf() { # RS3_WEIGHT
	sed -e "s/@DIGEST_RS1@/$D1/" -e "s/@DIGEST_OTHER@/$DOTHER/" -e "s/@WEIGHT_RS3@/$1/" \
		/scenarios/lb-nat.conf >"$CONF"
}
conf 1
echo "     rs1's page digest (busybox md5sum): $D1"
check "keepalived-rs -t accepts the configuration" keepalived-rs -t -f "$CONF"
check "$INIT restart with it" "$INIT" restart
wait_for 15 "VRRP master: VIP $VIP on eth0" has_addr eth0 "$VIP"
wait_for 10 "the kernel has TCP $VIP:80 (wrr)" lb_has_service "$VIP" 80

dest_set() { lb_dest_list "$VIP" 80 | tr ' ' '\n' | sort | tr '\n' ' '; }
HEALTHY="198.51.100.11:80 198.51.100.12:80 198.51.100.13:80 "
only() { [ "$(dest_set)" = "$1" ]; }
wait_for 15 "only rs1, rs2, rs3 in /proc/net/ip_vs (rs4 wrong digest, rs5 refused)" only "$HEALTHY"
lb_dests "$VIP" 80 | sed 's/^/     /'
masq_w1() { [ "$(lb_dests "$VIP" 80 | awk '$2 == "Masq" && $3 == 1' | wc -l)" = 3 ]; }
check "each healthy destination: Masq, weight 1" masq_w1
check "log: rs4 removed (its digest)" log_has "Removing service \[198.51.100.14\]:80 from VS"
check "log: rs5 removed (refused)" log_has "Removing service \[198.51.100.15\]:80 from VS"

# --- traffic through the VIP ---------------------------------------------------
N=12
lb_traffic "$N" "$URL"
echo "     $N requests: $(lb_tally | tr '\n' ' ')"
check "all $N requests answered" [ "$LB_FAILED" = 0 ]
check "each of rs1, rs2, rs3 answered some" \
	sh -c "[ $(lb_count rs1) -gt 0 ] && [ $(lb_count rs2) -gt 0 ] && [ $(lb_count rs3) -gt 0 ]"
check "rs4 and rs5 answered none" [ "$(($(lb_count rs4) + $(lb_count rs5)))" = 0 ]

# --- kill rs2 ------------------------------------------------------------------
check "kill rs2's httpd" lb_kill rs2
check "rs2 leaves /proc/net/ip_vs" lb_time_dest gone 198.51.100.12 80 10
KILL_MS=$LB_MS
echo "     removal after kill: $KILL_MS ms (budget $BUDGET_MS ms + slack $SLACK_MS ms)"
check "only rs1 and rs3 left" only "198.51.100.11:80 198.51.100.13:80 "
check "removal within the retry budget" [ "$KILL_MS" -le $((BUDGET_MS + SLACK_MS)) ]
check "log: TCP_CHECK failure, rs2 removed" log_has "Removing service \[198.51.100.12\]:80 from VS"
lb_traffic "$N" "$URL"
echo "     $N requests with rs2 dead: $(lb_tally | tr '\n' ' ')"
check "with rs2 dead: all $N answered" [ "$LB_FAILED" = 0 ]
check "with rs2 dead: none reached rs2" [ "$(lb_count rs2)" = 0 ]
check "with rs2 dead: rs1 and rs3 answered" \
	sh -c "[ $(lb_count rs1) -gt 0 ] && [ $(lb_count rs3) -gt 0 ]"

check "revive rs2's httpd" lb_httpd rs2 198.51.100.12 80
check "rs2 back in /proc/net/ip_vs" lb_time_dest there 198.51.100.12 80 10
REVIVE_MS=$LB_MS
echo "     back after revive: $REVIVE_MS ms (a failed server is checked every delay_loop, 1 s)"
check "rs1, rs2, rs3 again" only "$HEALTHY"

# --- reload changing rs3's weight ------------------------------------------------
# Fresh connections for the counters (NAT entries stay in TIME_WAIT for 2 min).
lb_traffic "$N" "$URL"
echo "     $N requests with rs2 back: $(lb_tally | tr '\n' ' ')"
check "with rs2 back: all answered, rs2 among them" \
	sh -c "[ $LB_FAILED = 0 ] && [ $(lb_count rs2) -gt 0 ]"
# The kernel lists a service's destinations newest first and a re-added one
# (even one it restores from its trash, counters and all) goes to the front:
# rs2 came back last, so the order is rs2 rs3 rs1. Rebuilding the service, or
# deleting and re-adding rs3, would give rs3 rs2 rs1.
before_order=$(lb_dest_list "$VIP" 80)
before=$(lb_dests "$VIP" 80)
echo "     before reload:"
echo "$before" | sed 's/^/       /'
adds_before=$(grep -c "Adding service" /var/log/messages)
removes_before=$(grep -c "Removing service" /var/log/messages)
conf 3
pid=$(cat "$PIDFILE")
check "SIGHUP (rs3 weight 1 -> 3)" kill -HUP "$pid"
rs3_is() { [ "$(lb_weight "$VIP" 80 198.51.100.13 80)" = "$1" ]; }
wait_for 10 "rs3 has weight 3 in the kernel" rs3_is 3
after=$(lb_dests "$VIP" 80)
echo "     after reload:"
echo "$after" | sed 's/^/       /'
check "same destinations in the same kernel order ($before_order)" \
	[ "$(lb_dest_list "$VIP" 80)" = "$before_order" ]
for a in 198.51.100.11:80 198.51.100.12:80; do
	b=$(echo "$before" | awk -v d="$a" '$1 == d { print $3, $4, $5 }')
	c=$(echo "$after" | awk -v d="$a" '$1 == d { print $3, $4, $5 }')
	check "$a kept weight/ActiveConn/InActConn ($b -> $c)" [ "$b" = "$c" ]
done
sleep 2
check "2 s later: still rs1-rs3 only (rs4, rs5 stay failed)" only "$HEALTHY"
check "the reload logged no add or remove" sh -c \
	"[ \$(grep -c 'Adding service' /var/log/messages) = $adds_before ] &&
	 [ \$(grep -c 'Removing service' /var/log/messages) = $removes_before ]"
check "same process after reload" kill -0 "$pid"

# --- SIGTERM -------------------------------------------------------------------
check "$INIT stop (SIGTERM)" "$INIT" stop
check "TCP $VIP:80 is gone from /proc/net/ip_vs" sh -c "! grep -q '^TCP  C0000264:0050 ' /proc/net/ip_vs"

echo "     daemon's load-balancer lines:"
grep -E 'service|quorum|IPVS|HTTP_GET|TCP_CHECK' /var/log/messages | sed 's/^/       /' | tail -n 30
echo "     times: removal after kill ${KILL_MS} ms, back after revive ${REVIVE_MS} ms"
finish
