#!/bin/sh
# keepalived-rs's pools in the kernel's IPVS (NAT), with real traffic: two
# virtual servers on the VRRP VIP 192.0.2.100 (scenarios/lb-quorum.conf; real
# servers are busybox httpd in namespaces, see /usr/share/lab/lb.sh):
#   :80    quorum 2 of rs1 + rs2 (weight 1 each, TCP_CHECK), sorry server
#          198.51.100.20: rs1 killed loses the quorum, /proc/net/ip_vs shows
#          the sorry server alone and it answers every request; rs1 revived
#          brings rs1 + rs2 back and the sorry server leaves;
#   :8080  inhibit_on_failure (rs3, rs4, HTTP_GET): rs3 killed stays listed
#          with weight 0 and gets no request; revived, weight 1 again;
# SIGTERM then removes both.
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lb.sh

VIP=192.0.2.100
CONF=/etc/keepalived/keepalived.conf
N=8

check "lab: bridge lbr0, client namespace, ip_forward" lb_setup
server() { lb_server "$1" "$2" && lb_httpd "$1" "$2" 80; }
for n in 1 2 3 4; do
	check "real server rs$n at 198.51.100.1$n, httpd" server "rs$n" "198.51.100.1$n"
done
check "sorry server at 198.51.100.20, httpd" server sorry 198.51.100.20
cp /scenarios/lb-quorum.conf "$CONF"
check "keepalived-rs -t accepts the configuration" keepalived-rs -t -f "$CONF"
check "$INIT restart with it" "$INIT" restart
pid=$(cat "$PIDFILE")
wait_for 15 "VRRP master: VIP $VIP on eth0" has_addr eth0 "$VIP"

set_of() { lb_dest_list "$VIP" "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }
dests_are() { [ "$(set_of "$1")" = "$2" ]; }
weight_is() { [ "$(lb_weight "$VIP" "$1" "$2" 80)" = "$3" ]; }
BOTH="198.51.100.11:80 198.51.100.12:80 "
SORRY="198.51.100.20:80 "
wait_for 10 ":80 in the kernel with rs1 + rs2, no sorry server" dests_are 80 "$BOTH"
wait_for 10 ":8080 in the kernel with rs3 + rs4" dests_are 8080 "198.51.100.13:80 198.51.100.14:80 "
sed 's/^/     /' /proc/net/ip_vs

lb_traffic "$N" "http://$VIP/"
echo "     $N requests to :80: $(lb_tally | tr '\n' ' ')"
check ":80 answered by rs1 and rs2 only, none failed" \
	sh -c "[ $LB_FAILED = 0 ] && [ $(lb_count rs1) -gt 0 ] && [ $(lb_count rs2) -gt 0 ] &&
	[ $(lb_count sorry) = 0 ]"

# --- quorum ------------------------------------------------------------------------
check "kill rs1" lb_kill rs1
check "the sorry server enters the kernel" lb_time_dest there 198.51.100.20 80 10
LOST_MS=$LB_MS
check ":80 has the sorry server alone (quorum 2 > weight 1)" dests_are 80 "$SORRY"
check "log: Lost quorum" log_has "Lost quorum 2-0 > 1 for VS \[192.0.2.100\]:tcp:80"
sed 's/^/     /' /proc/net/ip_vs
lb_traffic "$N" "http://$VIP/"
echo "     $N requests to :80: $(lb_tally | tr '\n' ' ')"
check "quorum lost: every request answered by the sorry server" \
	sh -c "[ $LB_FAILED = 0 ] && [ $(lb_count sorry) = $N ]"

check "revive rs1" lb_httpd rs1 198.51.100.11 80
check "the sorry server leaves the kernel" lb_time_dest gone 198.51.100.20 80 10
GAINED_MS=$LB_MS
wait_for 5 ":80 has rs1 + rs2 again, the sorry server left" dests_are 80 "$BOTH"
check "log: Gained quorum" log_has "Gained quorum 2+0 <= 2 for VS \[192.0.2.100\]:tcp:80"
lb_traffic "$N" "http://$VIP/"
echo "     $N requests to :80: $(lb_tally | tr '\n' ' ')"
check "quorum back: rs1 and rs2 answer, the sorry server not" \
	sh -c "[ $LB_FAILED = 0 ] && [ $(lb_count rs1) -gt 0 ] && [ $(lb_count rs2) -gt 0 ] &&
	[ $(lb_count sorry) = 0 ]"

# --- inhibit_on_failure --------------------------------------------------------------
check "kill rs3" lb_kill rs3
check ":8080: rs3 gets weight 0" lb_time_dest there 198.51.100.13 80 10 0
INHIBIT_MS=$LB_MS
check ":8080: rs3 has weight 0" weight_is 8080 198.51.100.13 0
check ":8080: rs3 still listed" dests_are 8080 "198.51.100.13:80 198.51.100.14:80 "
check ":8080: rs4 weight 1" weight_is 8080 198.51.100.14 1
check "log: Disabling service rs3" log_has "Disabling service \[198.51.100.13\]:80 from VS \[192.0.2.100\]:tcp:8080"
lb_dests "$VIP" 8080 | sed 's/^/     /'
lb_traffic "$N" "http://$VIP:8080/"
echo "     $N requests to :8080: $(lb_tally | tr '\n' ' ')"
check ":8080 with rs3 inhibited: all answered by rs4" \
	sh -c "[ $LB_FAILED = 0 ] && [ $(lb_count rs4) = $N ]"
check "revive rs3" lb_httpd rs3 198.51.100.13 80
wait_for 10 ":8080: rs3 has weight 1 again" weight_is 8080 198.51.100.13 1
check "log: Enabling service rs3" log_has "Enabling service \[198.51.100.13\]:80 to VS \[192.0.2.100\]:tcp:8080"

check "VRRP: still master, VIP on eth0" has_addr eth0 "$VIP"
check "same daemon process (pid $pid)" kill -0 "$pid"
sed 's/^/     /' /proc/net/ip_vs

check "$INIT stop (SIGTERM)" "$INIT" stop
check "no service of ours left in /proc/net/ip_vs" sh -c "! grep -q '^TCP ' /proc/net/ip_vs"

echo "     daemon's load-balancer lines:"
grep -E 'service|quorum|IPVS' /var/log/messages | sed 's/^/       /' | tail -n 30
echo "     times: sorry server in ${LOST_MS} ms after the kill, out ${GAINED_MS} ms after the revive; rs3 weight 0 ${INHIBIT_MS} ms after its kill"
finish
