#!/bin/sh
# Runs buildroot/package/keepalived-rs/S45keepalived-rs under busybox (its sh
# and its start-stop-daemon, as on a Buildroot target) against a real
# keepalived-rs binary: start, double start, reload, restart, stop, double
# stop, a bad configuration and the usage message.
#
# Needs root (the daemon runs in a private network namespace made with
# unshare -n, so nothing touches the host's network) and busybox.
# Usage: buildroot/tests/s45-busybox.sh [path/to/keepalived-rs]
# (default: target/release/keepalived-rs of this repository).

set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/target/release/keepalived-rs}
busybox=$(command -v busybox) || { echo "SKIP: busybox not found"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: no daemon binary at $bin (cargo build --release)"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for unshare -n"; exit 77; }
unshare=$(command -v unshare) || { echo "SKIP: unshare not found"; exit 77; }

tmp=$(mktemp -d "/tmp/s45-busybox.$$.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -f "$tmp/run/keepalived-rs.pid" ]; then
		kill "$(cat "$tmp/run/keepalived-rs.pid")" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/bb" "$tmp/sbin" "$tmp/run" "$tmp/default"
for applet in sh start-stop-daemon sleep rm printf echo cat kill test \[; do
	ln -s "$busybox" "$tmp/bb/$applet"
done
cp "$bin" "$tmp/sbin/keepalived-rs"
cp "$here/../package/keepalived-rs/keepalived.conf" "$tmp/keepalived.conf"
printf 'vrrp_instance {\n' >"$tmp/bad.conf"
sed -e "s|/usr/sbin/|$tmp/sbin/|g" \
	-e "s|/var/run/|$tmp/run/|g" \
	-e "s|/etc/default/|$tmp/default/|g" \
	"$here/../package/keepalived-rs/S45keepalived-rs" >"$tmp/S45keepalived-rs"
cat >"$tmp/default/keepalived-rs" <<EOT
KEEPALIVED_RS_CONF="$tmp/keepalived.conf"
KEEPALIVED_RS_ARGS="-G -D"
EOT

# The steps below run inside the namespace; each prints one line.
cat >"$tmp/steps.sh" <<'EOT'
t=$1
s="$t/S45keepalived-rs"
pidf="$t/run/keepalived-rs.pid"
fails=0
check() { # name expected-status actual-status
	if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1 (status $3, want $2)"; fails=$((fails + 1)); fi
}
alive() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }

sh "$s" start; check "start" 0 $?
alive; check "running with pidfile after start" 0 $?
pid1=$(cat "$pidf" 2>/dev/null)
sh "$s" start >/dev/null 2>&1; [ $? -ne 0 ]; check "second start refused" 0 $?
sh "$s" reload; check "reload" 0 $?
sleep 0.2
alive && [ "$(cat "$pidf")" = "$pid1" ]; check "same daemon alive after reload" 0 $?
sh "$s" restart; check "restart" 0 $?
alive && [ "$(cat "$pidf")" != "$pid1" ]; check "new daemon after restart" 0 $?
pid2=$(cat "$pidf" 2>/dev/null)
sh "$s" stop; check "stop" 0 $?
[ ! -e "$pidf" ]; check "pidfile gone after stop" 0 $?
kill -0 "$pid2" 2>/dev/null; [ $? -ne 0 ]; check "daemon gone after stop" 0 $?
sh "$s" stop >/dev/null 2>&1; [ $? -ne 0 ]; check "stop when stopped fails" 0 $?
echo "KEEPALIVED_RS_CONF=\"$t/bad.conf\"" >>"$t/default/keepalived-rs"
sh "$s" start; [ $? -ne 0 ]; check "start with bad config fails" 0 $?
alive; [ $? -ne 0 ]; check "nothing running after bad start" 0 $?
sh "$s" status >/dev/null; check "unknown action exits 1" 1 $?
exit "$fails"
EOT

PATH="$tmp/bb" "$unshare" -n "$tmp/bb/sh" "$tmp/steps.sh" "$tmp"
rc=$?
if [ "$rc" -eq 0 ]; then echo "PASS"; else echo "FAILED: $rc step(s)"; fi
exit "$rc"
