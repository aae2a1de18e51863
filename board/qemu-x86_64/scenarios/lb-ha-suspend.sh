#!/bin/sh
# ha_suspend in a VRRP pair of directors: only the master health-checks. Two
# keepalived-rs daemons in this VM, each in its own network namespace (IPVS is
# per namespace), with the same virtual server on the VIP 192.0.2.100:80
# (scenarios/lb-ha-suspend.conf, nopreempt):
#
#   d1  eth0 192.0.2.1/24   ── bridge vbr0 (VRRP) ── d2  eth0 192.0.2.2/24
#       eth1 198.51.100.2/24 ─┐                    ┌─    eth1 198.51.100.3/24
#                             bridge lbr0 (/usr/share/lab/lb.sh)
#   rs1 198.51.100.11 httpd (HTTP_GET), rs2 .12 httpd (TCP_CHECK),
#   rs3 .13 nothing listening (TCP_CHECK, refused)
#
# rs1's and rs2's httpd log every accepted connection with its source address,
# so each director's checks are counted where they arrive: d1's come from
# 198.51.100.2, d2's from 198.51.100.3. Checks: d1 master, d2 backup; over a
# window of several delay_loops the master connects to rs1 and rs2 again and
# again while the backup, since it started, never has; the master's kernel
# table holds rs1 + rs2 (its checker took rs3 out), the backup's still all
# three (servers start alive and no checker of its ran). SIGTERM to d1: d2
# takes the VIP, starts checking (timed from the SIGTERM) and takes rs3 out
# of its own table; d1's table is emptied. d1 restarted stays backup
# (nopreempt) and does not check while d2 does.
# shellcheck disable=SC2034 # LB_NS is read by lb.sh's functions
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lb.sh

VIP=192.0.2.100
D1=198.51.100.2 # d1's address on lbr0: its checks come from it
D2=198.51.100.3
WINDOW=5 # seconds watched: five delay_loops of 1 s
MIN=3    # connections a checking director must make to each server in the window
HEALTHY="198.51.100.11:80 198.51.100.12:80 "
ALL="198.51.100.11:80 198.51.100.12:80 198.51.100.13:80 "

# The VM's own daemon (init's, VIP on eth0) is not part of this lab.
check "$INIT stop (the pair runs in namespaces)" "$INIT" stop
check "lab: bridge lbr0, client namespace, ip_forward" lb_setup
vrrp_bridge() { brctl addbr vbr0 && ip link set vbr0 up; }
check "VRRP bridge vbr0" vrrp_bridge
director() { # NAME VRRP_ADDR RS_ADDR
	lb_ns "$1" "$2" "h-$1" && brctl addif vbr0 "h-$1" &&
		lb_veth "$1" eth1 "$3" "h-$1r" && brctl addif lbr0 "h-$1r"
}
check "director d1: eth0 192.0.2.1 on vbr0, eth1 $D1 on lbr0" director d1 192.0.2.1 "$D1"
check "director d2: eth0 192.0.2.2 on vbr0, eth1 $D2 on lbr0" director d2 192.0.2.2 "$D2"
for n in 1 2 3; do
	check "real server rs$n at 198.51.100.1$n" lb_server "rs$n" "198.51.100.1$n"
done
for n in 1 2; do
	: >"$LB_DIR/rs$n.log"
	check "httpd on rs$n, logging connections" lb_httpd "rs$n" "198.51.100.1$n" 80 "$LB_DIR/rs$n.log"
done

# How many connections real server NAME accepted from ADDR (httpd -vvv: "IP:PORT: connected").
conns() { # NAME ADDR
	awk -v a="$2:" 'index($0, a) == 1 && / connected$/ { n++ } END { print n + 0 }' \
		"$LB_DIR/$1.log"
}
vip_on() { lb_in "$1" ip -4 addr show dev eth0 | grep -q " $VIP/"; }
logged() { grep -q "$2" "$LB_DIR/$1.log"; } # LOGNAME TEXT
set_of() {                                   # NS: its table's destinations of VIP:80, sorted
	LB_NS=$1
	lb_dest_list "$VIP" 80 | tr ' ' '\n' | sort | tr '\n' ' '
	LB_NS=
}
is_set() { [ "$(set_of "$1")" = "$2" ]; }
show_table() { # NS
	LB_NS=$1
	lb_dests "$VIP" 80 | sed "s/^/       $1: /"
	LB_NS=
}
has_service() {
	LB_NS=$1
	lb_has_service "$VIP" 80
	_rc=$?
	LB_NS=
	return "$_rc"
}
not() { ! "$@"; }
vip_only_on() { vip_on "$1" && ! vip_on "$2"; }    # HOLDER OTHER
tables_are() { is_set d1 "$1" && is_set d2 "$2"; } # D1_SET D2_SET
no_service() { ! has_service d1 && ! has_service d2; }
d2_checked() { [ "$(($(conns rs1 "$D2") + $(conns rs2 "$D2")))" -gt 0 ]; }
# A process that is gone or a zombie (the daemons are children of this shell).
gone() { ! grep -qs '^State:[[:space:]]*[RSDT]' "/proc/$1/status"; }

# keepalived-rs in namespace NAME, in the foreground (-n) of a background job,
# logging to $LB_DIR/LOG.log; its pidfile $LB_DIR/NAME.pid (lb_cleanup kills it).
start_director() { # NAME LOG
	nsenter -t "$(lb_pid "$1")" -n keepalived-rs -n -l -G -D -p "$LB_DIR/$1.pid" \
		-f "$LB_DIR/$1.conf" >"$LB_DIR/$2.log" 2>&1 &
	_i=0
	until [ -s "$LB_DIR/$1.pid" ]; do
		_i=$((_i + 1))
		[ "$_i" -le 50 ] || return 1
		sleep 0.1
	done
}
stop_director() { # NAME: SIGTERM, then wait (10 s at most) until it is gone
	_pid=$(cat "$LB_DIR/$1.pid") || return 1
	kill -TERM "$_pid" || return 1
	_i=0
	until gone "$_pid"; do
		_i=$((_i + 1))
		[ "$_i" -le 100 ] || return 1
		sleep 0.1
	done
	wait "$_pid" 2>/dev/null
	return 0
}
# wait_for, but the time printed (and left in MS) counts from T0 (now_ms).
wait_since() { # T0 SECS DESC CMD...
	_t0=$1
	_end=$(($(now_ms) + $2 * 1000))
	_desc=$3
	shift 3
	until "$@"; do
		if [ "$(now_ms)" -ge "$_end" ]; then
			MS=$(($(now_ms) - _t0))
			fail "$_desc (not within ${MS} ms)"
			return 1
		fi
		sleep 0.05
	done
	MS=$(($(now_ms) - _t0))
	pass "$_desc ($MS ms)"
}

conf() { # NAME PRIORITY
	sed -e "s/@NAME@/$1/" -e "s/@PRIORITY@/$2/" /scenarios/lb-ha-suspend.conf >"$LB_DIR/$1.conf"
}
conf d1 100
conf d2 90
check "keepalived-rs -t accepts the configuration" keepalived-rs -t -f "$LB_DIR/d1.conf"

# --- d1 master, d2 backup ------------------------------------------------------
# d1 first, alone: it is master before d2 exists, so d2 never holds the VIP
# (two backups timing out together could both be master for a moment).
check "start keepalived-rs in d1 (priority 100)" start_director d1 d1
wait_for 15 "d1 is VRRP master: VIP $VIP on d1's eth0" vip_on d1
wait_for 5 "d1: Activating healthcheckers for VS (ha_suspend)" \
	logged d1 "Activating healthcheckers for VS \[192.0.2.100\]:tcp:80 (ha_suspend)"
check "start keepalived-rs in d2 (priority 90)" start_director d2 d2
D2_START=$(now_ms)
wait_for 10 "d2: Entering BACKUP STATE" logged d2 "Entering BACKUP STATE"
wait_for 10 "d2 programmed the service in its namespace's kernel" has_service d2

a1=$(conns rs1 "$D1")
a2=$(conns rs2 "$D1")
sleep "$WINDOW"
m1=$(($(conns rs1 "$D1") - a1))
m2=$(($(conns rs2 "$D1") - a2))
b1=$(conns rs1 "$D2")
b2=$(conns rs2 "$D2")
echo "     in ${WINDOW} s: d1 (master) connected to rs1 ${m1}x, rs2 ${m2}x;" \
	"d2 (backup) to rs1 ${b1}x, rs2 ${b2}x in its $((($(now_ms) - D2_START) / 1000)) s"
check "the master d1 checked rs1 (HTTP_GET) >= $MIN times in ${WINDOW} s" [ "$m1" -ge "$MIN" ]
check "the master d1 checked rs2 (TCP_CHECK) >= $MIN times in ${WINDOW} s" [ "$m2" -ge "$MIN" ]
check "the backup d2 never connected to rs1 or rs2" [ "$((b1 + b2))" = 0 ]
check "the VIP is on d1 only" vip_only_on d1 d2
check "d2 stayed backup: no MASTER STATE, no Activating healthcheckers" not grep -q \
	-e 'Entering MASTER STATE' -e 'Activating healthcheckers' "$LB_DIR/d2.log"

echo "     kernel tables (/proc/net/ip_vs of each namespace):"
show_table d1
show_table d2
check "the master d1's table: rs1, rs2 (its checker took rs3 out)" is_set d1 "$HEALTHY"
check "the backup d2's table: rs1, rs2, rs3 (no checker of its ran)" is_set d2 "$ALL"
check "d1 logged rs3's removal, d2 did not" sh -c \
	"grep -q 'Removing service \[198.51.100.13\]:80' '$LB_DIR/d1.log' &&
	 ! grep -q 'Removing service' '$LB_DIR/d2.log'"

# --- failover: SIGTERM to the master ---------------------------------------------
T0=$(now_ms)
check "SIGTERM to d1: it exits" stop_director d1
STOP_MS=$(($(now_ms) - T0))
wait_since "$T0" 10 "d2 takes over: VIP on d2's eth0" vip_on d2
VIP_MS=$MS
wait_since "$T0" 10 "d2 starts checking: its first connection reaches rs1 or rs2" d2_checked
FIRST_MS=$MS
wait_since "$T0" 10 "d2's table: rs1, rs2 (its checker took rs3 out)" is_set d2 "$HEALTHY"
TABLE_MS=$MS
check "d2: Entering MASTER STATE, Activating healthcheckers for VS" sh -c \
	"grep -q 'Entering MASTER STATE' '$LB_DIR/d2.log' &&
	 grep -q 'Activating healthcheckers for VS \[192.0.2.100\]:tcp:80' '$LB_DIR/d2.log'"
check "d1's namespace: the service left the kernel with d1" not has_service d1

# --- d1 restarted: backup under d2 (nopreempt), no checks -----------------------
r1=$(conns rs1 "$D1")
r2=$(conns rs2 "$D1")
check "restart keepalived-rs in d1" start_director d1 d1-again
wait_for 10 "d1 again: Entering BACKUP STATE" logged d1-again "Entering BACKUP STATE"
wait_for 10 "d1 programmed the service in its namespace's kernel again" has_service d1
s1=$(conns rs1 "$D2")
s2=$(conns rs2 "$D2")
sleep "$WINDOW"
n1=$(($(conns rs1 "$D2") - s1))
n2=$(($(conns rs2 "$D2") - s2))
o1=$(($(conns rs1 "$D1") - r1))
o2=$(($(conns rs2 "$D1") - r2))
echo "     in ${WINDOW} s: d2 (master) connected to rs1 ${n1}x, rs2 ${n2}x;" \
	"d1 (restarted backup) to rs1 ${o1}x, rs2 ${o2}x since its start"
check "the new master d2 checked rs1 (HTTP_GET) >= $MIN times in ${WINDOW} s" [ "$n1" -ge "$MIN" ]
check "the new master d2 checked rs2 (TCP_CHECK) >= $MIN times in ${WINDOW} s" [ "$n2" -ge "$MIN" ]
check "the restarted backup d1 never connected to rs1 or rs2" [ "$((o1 + o2))" = 0 ]
check "the VIP stays on d2 (nopreempt), not on d1" vip_only_on d2 d1
check "d1 again: no MASTER STATE, no Activating healthcheckers" not grep -q \
	-e 'Entering MASTER STATE' -e 'Activating healthcheckers' "$LB_DIR/d1-again.log"
echo "     kernel tables:"
show_table d1
show_table d2
check "d2's table: rs1, rs2; d1's: rs1, rs2, rs3 (no checker of its ran)" \
	tables_are "$ALL" "$HEALTHY"

# --- end ----------------------------------------------------------------------
stop_both() { stop_director d2 && stop_director d1; }
check "SIGTERM to d2 and d1: both exit" stop_both
check "no service left in either namespace" no_service

echo "     d1's lines (first run, then restarted) and d2's:"
for l in d1 d1-again d2; do
	grep -E 'STATE|healthcheckers|service' "$LB_DIR/$l.log" | sed "s/^/       $l: /" | tail -n 12
done
echo "     times from d1's SIGTERM: d1 gone ${STOP_MS} ms, VIP on d2 ${VIP_MS} ms," \
	"d2's first check ${FIRST_MS} ms, d2's table without rs3 ${TABLE_MS} ms"
finish
