#!/bin/sh
# Checks board/openwrt/keepalived-rs/files/keepalived-rs.init without
# OpenWrt: procd's shell functions are replaced by stubs that record their
# arguments, the script is sourced as /etc/rc.common would, and the
# recorded calls are compared with what procd must be told.
#
# With root and a daemon binary (argument 1, default
# target/release/keepalived-rs), the recorded command line is then run for
# real in a private network namespace (unshare -n): it must stay in the
# foreground, write the pidfile, survive SIGHUP and exit 0 on SIGTERM.

set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
init="$here/../keepalived-rs/files/keepalived-rs.init"
bin=${1:-$repo/target/release/keepalived-rs}

tmp=$(mktemp -d "/tmp/procd-init.$$.XXXXXX")
daemon_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fails=0
check() { # description, then a command that must succeed
	desc=$1
	shift
	if "$@"; then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		fails=$((fails + 1))
	fi
}

calls="$tmp/calls"
# procd stubs, as /lib/functions/procd.sh would provide them.
procd_open_instance() { echo "open_instance" >>"$calls"; }
procd_set_param() { echo "set_param $*" >>"$calls"; }
procd_close_instance() { echo "close_instance" >>"$calls"; }
procd_send_signal() { echo "send_signal $*" >>"$calls"; }

# shellcheck source-path=SCRIPTDIR source=../keepalived-rs/files/keepalived-rs.init
. "$init"

check "START=70" [ "$START" = 70 ]
check "USE_PROCD=1" [ "$USE_PROCD" = 1 ]

# Missing configuration: start_service refuses, procd is told nothing.
: >"$calls"
CONF="$tmp/missing.conf"
start_service 2>/dev/null
check "start_service fails without a configuration" [ $? -ne 0 ]
check "no procd instance without a configuration" [ ! -s "$calls" ]

# With a configuration.
: >"$calls"
CONF="$tmp/keepalived.conf"
PIDFILE="$tmp/keepalived-rs.pid"
cp "$here/../keepalived-rs/files/keepalived.conf" "$CONF"
start_service
check "start_service succeeds" [ $? -eq 0 ]
cat >"$tmp/want" <<EOT
open_instance
set_param command /usr/sbin/keepalived-rs -n -f $CONF -p $PIDFILE
set_param respawn
close_instance
EOT
check "procd instance: foreground command, respawn" cmp -s "$calls" "$tmp/want"
[ "$fails" -eq 0 ] || diff "$tmp/want" "$calls"

: >"$calls"
reload_service
check "reload sends SIGHUP through procd" \
	[ "$(cat "$calls")" = "send_signal keepalived-rs * HUP" ]

# Run the command procd would run.
if [ "$(id -u)" -ne 0 ] || [ ! -x "$bin" ] || ! command -v unshare >/dev/null; then
	echo "skip running the daemon (needs root, unshare and $bin)"
else
	# shellcheck disable=SC2046 # split the command line into words
	set -- $(sed -n 's/^set_param command //p' "$tmp/want")
	shift # /usr/sbin/keepalived-rs -> the binary under test
	unshare -n "$bin" -G "$@" &
	daemon_pid=$!
	tries=50
	while [ ! -s "$PIDFILE" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	check "daemon in the foreground wrote its pidfile" [ -s "$PIDFILE" ]
	check "pidfile names the process procd started" \
		[ "$(cat "$PIDFILE" 2>/dev/null)" = "$daemon_pid" ]
	kill -HUP "$daemon_pid"
	sleep 0.3
	check "daemon alive after SIGHUP" kill -0 "$daemon_pid"
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	rc=$?
	daemon_pid=
	check "daemon exits 0 on SIGTERM" [ "$rc" -eq 0 ]
	check "daemon removed its pidfile" [ ! -e "$PIDFILE" ]
fi

if [ "$fails" -eq 0 ]; then echo "PASS"; else echo "FAILED: $fails check(s)"; fi
[ "$fails" -eq 0 ]
