# shellcheck shell=sh
# shellcheck disable=SC2034 # PIDFILE, INIT are for the scenarios
# Helpers for scenarios that run inside the lab VM (busybox sh).
#   . /usr/share/lab/lib.sh
#   check "the daemon runs" pidof keepalived-rs
#   wait_for 10 "VIP is here" has_addr eth0 192.0.2.100
#   finish                      # exit status: 0 if every check passed
# Every wait is bounded.

LAB_FAILS=0
LAB_CHECKS=0
PIDFILE=/var/run/keepalived-rs.pid
INIT=/etc/init.d/S45keepalived-rs

# Monotonic milliseconds since boot.
now_ms() {
	read -r up _ </proc/uptime
	echo $(( ${up%.*} * 1000 + $(echo "${up#*.}" | sed 's/^0*//;s/^$/0/') * 10 ))
}

pass() {
	LAB_CHECKS=$((LAB_CHECKS + 1))
	echo "  ok   $*"
}

fail() {
	LAB_CHECKS=$((LAB_CHECKS + 1))
	LAB_FAILS=$((LAB_FAILS + 1))
	echo "  FAIL $*"
}

# check DESCRIPTION CMD [ARGS...]: CMD must exit 0.
check() {
	desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# wait_for SECONDS DESCRIPTION CMD [ARGS...]: poll CMD every 0.1 s.
wait_for() {
	secs=$1
	desc=$2
	shift 2
	start=$(now_ms)
	deadline=$((start + secs * 1000))
	while ! "$@"; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			fail "$desc (not within ${secs}s)"
			return 1
		fi
		sleep 0.1
	done
	pass "$desc ($(($(now_ms) - start)) ms)"
}

# has_addr IFACE ADDRESS: ADDRESS (without prefix length) is on IFACE.
has_addr() {
	ip -4 addr show dev "$1" | grep -q " $2/"
}

# daemon_running: the pidfile names a live keepalived-rs.
daemon_running() {
	[ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# log_has TEXT: syslog (busybox syslogd) has a line containing TEXT.
log_has() {
	grep -q "$1" /var/log/messages
}

finish() {
	echo "  $LAB_CHECKS checks, $LAB_FAILS failed"
	[ "$LAB_FAILS" -eq 0 ]
	exit
}
