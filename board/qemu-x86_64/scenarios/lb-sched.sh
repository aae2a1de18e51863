#!/bin/sh
# A virtual server with a scheduler the kernel does not have: lb_algo mh
# (ip_vs_mh is not in the image, so the kernel cannot load it either) on
# 192.0.2.100:8081, beside a working one on :80 (scenarios/lb-sched.conf; real
# servers are busybox httpd in namespaces, see /usr/share/lab/lb.sh).
# Checks: a clear error is logged (it is printed), :8081 is not in the
# kernel, the daemon goes on: VRRP master, :80 programmed, its traffic
# answered, a checker's verdict on :80 still reaches the kernel. Then a reload
# that changes :8081 to rr must put :8081 and its real server into the kernel
# and traffic through it must work. SIGTERM removes what is there.
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lb.sh

VIP=192.0.2.100
CONF=/etc/keepalived/keepalived.conf
N=6

check "lab: bridge lbr0, client namespace, ip_forward" lb_setup
server() { lb_server "$1" "$2" && lb_httpd "$1" "$2" 80; }
check "real server rs1 at 198.51.100.11, httpd" server rs1 198.51.100.11
check "real server rs2 at 198.51.100.12, httpd" server rs2 198.51.100.12
check "the kernel cannot get ip_vs_mh (not in the image)" sh -c "! modprobe ip_vs_mh 2>/dev/null"

conf() { sed -e "s/@SCHED_8081@/$1/" /scenarios/lb-sched.conf >"$CONF"; }
conf mh
check "keepalived-rs -t accepts the configuration (lb_algo mh)" keepalived-rs -t -f "$CONF"
check "$INIT restart with it" "$INIT" restart
pid=$(cat "$PIDFILE")
dests_are() { [ "$(lb_dest_list "$VIP" "$1")" = "$2" ]; }
wait_for 10 "mh: an error names the scheduler and the module" \
	log_has 'no scheduler "mh" (module ip_vs_mh missing)'
check "the IPVS error carries the checker process's syslog ident" \
	log_has 'Keepalived_healthcheckers\[[0-9]*\]: IPVS: cannot .*no scheduler "mh"'
echo "     the daemon's IPVS errors:"
grep 'IPVS' /var/log/messages | sed 's/^/       /'
wait_for 10 ":80 is in the kernel with rs1" dests_are 80 "198.51.100.11:80"
check "mh: :8081 is not in the kernel" sh -c "! grep -q '^TCP  C0000264:1F91 ' /proc/net/ip_vs"
wait_for 15 "VRRP master: VIP $VIP on eth0" has_addr eth0 "$VIP"
check "the daemon goes on (pid $pid)" kill -0 "$pid"
lb_traffic "$N" "http://$VIP/"
echo "     $N requests to :80: $(lb_tally | tr '\n' ' ')"
check ":80: every request answered by rs1" [ "$(lb_count rs1)" = "$N" ]
check "kill rs1" lb_kill rs1
wait_for 10 ":80: rs1 removed from the kernel" dests_are 80 ""
check "revive rs1" lb_httpd rs1 198.51.100.11 80
wait_for 10 ":80: rs1 back in the kernel" dests_are 80 "198.51.100.11:80"
# Each of those changes asked the kernel for the mh service again: one line all the same.
check "the repeated refusal of mh is logged once" \
	sh -c "[ \"\$(grep -c 'no scheduler \"mh\"' /var/log/messages)\" = 1 ]"

conf rr
check "SIGHUP with lb_algo rr for :8081" kill -HUP "$pid"
wait_for 10 ":8081 (rr) is in the kernel after the reload" \
	sh -c "grep -q '^TCP  C0000264:1F91 rr ' /proc/net/ip_vs"
wait_for 5 ":8081 has its real server rs2" dests_are 8081 "198.51.100.12:80"
check "mh's refusal stopped: its unlogged repeats are counted" \
	log_has 'no scheduler "mh" (module ip_vs_mh missing) (failed [0-9]* more times, not logged)'
sed 's/^/     /' /proc/net/ip_vs
lb_traffic "$N" "http://$VIP:8081/"
echo "     $N requests to :8081: $(lb_tally | tr '\n' ' ')"
check ":8081: every request answered by rs2" [ "$(lb_count rs2)" = "$N" ]
check "same daemon process (pid $pid)" kill -0 "$pid"

check "$INIT stop (SIGTERM)" "$INIT" stop
check "no service of ours left in /proc/net/ip_vs" sh -c "! grep -q '^TCP ' /proc/net/ip_vs"
echo "     the daemon's IPVS and service lines:"
grep -E 'IPVS|service \[' /var/log/messages | sed 's/^/       /'
finish
