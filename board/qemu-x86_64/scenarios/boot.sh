#!/bin/sh
# A single router boots: busybox init ran S45keepalived-rs, the daemon runs,
# has the VIP (no peer on the segment), logs to syslog; stop/start/reload of
# the init script behave.
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh

check "keepalived-rs -t accepts /etc/keepalived/keepalived.conf" \
	keepalived-rs -t -f /etc/keepalived/keepalived.conf
check "init started keepalived-rs (pidfile $PIDFILE, process alive)" daemon_running
wait_for 15 "alone on the segment it becomes master" log_has "(VI_1) Entering MASTER STATE"
wait_for 5 "VIP 192.0.2.100 on eth0" has_addr eth0 192.0.2.100

pid=$(cat "$PIDFILE")
check "$INIT reload exits 0" "$INIT" reload
sleep 1
check "after reload the same process runs (pid $pid)" \
	sh -c "[ \"\$(cat $PIDFILE)\" = $pid ] && kill -0 $pid"

check "$INIT stop exits 0" "$INIT" stop
check "the process is gone" sh -c "! kill -0 $pid 2>/dev/null"
check "the pidfile is gone" test ! -e "$PIDFILE"
check "the VIP is gone" sh -c "! ip -4 addr show dev eth0 | grep -q ' 192.0.2.100/'"
check "$INIT start exits 0" "$INIT" start
check "running again" daemon_running
wait_for 15 "master again, VIP back" has_addr eth0 192.0.2.100

finish
