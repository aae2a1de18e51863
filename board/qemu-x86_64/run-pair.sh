#!/bin/bash
# Two keepalived-rs routers, each a real kernel under qemu, on one Ethernet
# segment; the VIP 192.0.2.100 moves between them.
#
#   board/qemu-x86_64/build.sh && board/qemu-x86_64/run-pair.sh
#
#   r1  eth0 192.0.2.1/24  priority 100 ──┐  qemu -netdev dgram over two unix
#   r2  eth0 192.0.2.2/24  priority 90  ──┘  sockets in a temp dir (host-local)
#
# busybox init starts keepalived-rs in each VM from the Buildroot package's
# /etc/init.d/S45keepalived-rs; this script drives both serial consoles:
#   (a) both boot, exactly one (r1) holds the VIP
#   (b) S45keepalived-rs stop on the master: the VIP moves to r2
#   (c) S45keepalived-rs start again: r1 preempts, the VIP comes back
#   (d) r1's cable is pulled (qemu set_link off): the VIP moves; plugged back
#   (e) S45keepalived-rs reload: same process, pidfile still there
#   (f) the daemon's messages are in busybox syslogd's /var/log/messages
# Exits non-zero if any check failed. Every wait has a deadline.
#
# Environment: VM_ARCH (x86_64 or aarch64) is the architecture of both
# routers; R1_ARCH and R2_ARCH choose each one's (a mixed segment: one
# x86_64 and one aarch64 router in one VRRP group). Images from
# board/qemu-ARCH/build.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

VIP=192.0.2.100
R1_ARCH=${R1_ARCH:-$VM_ARCH}
R2_ARCH=${R2_ARCH:-$VM_ARCH}
INIT=/etc/init.d/S45keepalived-rs
PIDFILE=/var/run/keepalived-rs.pid
HAS_VIP="ip -4 addr show dev eth0 | grep -q ' $VIP/'"
FAILS=0
CHECKS=0
TIMES=()

FAILED_STEPS=()
CUR_STEP=""
step() {
	case "$1" in
		"(a)"*) CUR_STEP="(a)election" ;;
		"(b)"*) CUR_STEP="(b)stop" ;;
		"(c)"*) CUR_STEP="(c)start-preempt" ;;
		"(d)"*) CUR_STEP="(d)cable-pull" ;;
		"(e)"*) CUR_STEP="(e)reload" ;;
		"(f)"*) CUR_STEP="(f)syslog" ;;
		*) CUR_STEP=${1%% *} ;;
	esac
	printf '\n== %s\n' "$*"
}
say() { printf '   %s\n' "$*"; }
ok() {
	CHECKS=$((CHECKS + 1))
	printf '   ok   %s\n' "$*"
}
bad() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	printf '   FAIL %s\n' "$*"
	case " ${FAILED_STEPS[*]} " in
		*" $CUR_STEP "*) ;;
		*) FAILED_STEPS+=("$CUR_STEP") ;;
	esac
}
timing() { TIMES+=("$(printf '%-52s %6s ms' "$1" "$2")"); }

# Print a command's output indented, without blank lines.
show() { printf '%s\n' "$1" | sed '/^$/d; s/^/      | /'; }

# Run CMD on VM, expecting exit 0.
expect_ok() { # VM DESCRIPTION CMD
	if vm_run "$1" 20 "$3" && [ "$VM_RC" = 0 ]; then
		ok "$1: $2"
	else
		bad "$1: $2 (exit $VM_RC)"
	fi
	show "$VM_OUT"
}

# Which routers have the VIP now: HOLDERS = "r1", "r2", "r1 r2" or "none".
# (No $(...): vm_run keeps its sequence number in this shell.)
holders() {
	local r out=""
	for r in r1 r2; do
		if vm_run "$r" 10 "$HAS_VIP" && [ "$VM_RC" = 0 ]; then
			out="$out $r"
		fi
	done
	out=${out# }
	HOLDERS=${out:-none}
}

# Wait until holders() is exactly WANT; HOLDERS_MS = how long that took.
wait_holders() { # WANT TIMEOUT_S DESCRIPTION
	local want=$1 timeout=$2 desc=$3 start now h
	start=$(vm_now_ms)
	while :; do
		holders
		h=$HOLDERS
		now=$(vm_now_ms)
		if [ "$h" = "$want" ]; then
			HOLDERS_MS=$((now - start))
			ok "$desc: VIP on $want after $HOLDERS_MS ms"
			return 0
		fi
		if [ $((now - start)) -ge $((timeout * 1000)) ]; then
			HOLDERS_MS=$((now - start))
			bad "$desc: VIP on '$h', not on $want, after ${timeout}s"
			return 1
		fi
		sleep 0.1
	done
}

# The VIP stays exactly on WANT for SECONDS (sampled).
stays_on() { # WANT SECONDS
	local want=$1 secs=$2 deadline h
	deadline=$(($(vm_now_ms) + secs * 1000))
	while [ "$(vm_now_ms)" -lt "$deadline" ]; do
		holders
		h=$HOLDERS
		if [ "$h" != "$want" ]; then
			bad "VIP expected on $want for ${secs}s, found on '$h'"
			return 1
		fi
		sleep 0.3
	done
	ok "VIP stayed on $want for ${secs}s"
}

vm_init
for a in "$R1_ARCH" "$R2_ARCH"; do
	vm_arch "$a" || exit 1
	command -v "$ARCH_QEMU" >/dev/null || {
		echo "run-pair.sh: $ARCH_QEMU missing (run board/qemu-$a/build.sh)" >&2
		exit 1
	}
done

step "(a) boot r1 ($R1_ARCH, priority 100) and r2 ($R2_ARCH, priority 90); exactly one holds $VIP"
t0=$(vm_now_ms)
VM_ARCH=$R1_ARCH vm_start r1 "$(vm_images "$R1_ARCH")/initramfs-r1.cpio.gz" 52:54:00:00:00:01 \
	-netdev "$(vm_wire r1 r2)"
VM_ARCH=$R2_ARCH vm_start r2 "$(vm_images "$R2_ARCH")/initramfs-r2.cpio.gz" 52:54:00:00:00:02 \
	-netdev "$(vm_wire r2 r1)"
vm_boot_wait r1 120 || exit 1
boot_r1=$(($(vm_now_ms) - t0))
vm_boot_wait r2 120 || exit 1
boot_both=$(($(vm_now_ms) - t0))
say "r1 console ready after $boot_r1 ms, both after $boot_both ms (qemu TCG)"
timing "boot: qemu start to shell on both consoles" "$boot_both"
for r in r1 r2; do
	vm_run "$r" 10 "uname -m; ps | grep '[k]eepalived-rs'; cat $PIDFILE"
	say "$r: machine, keepalived-rs started by init:"
	show "$VM_OUT"
done
if wait_holders r1 30 "after boot"; then
	timing "boot: qemu start to VIP on r1 (and only r1)" $(($(vm_now_ms) - t0))
fi
stays_on r1 3
vm_run r1 10 "ip -4 addr show dev eth0"
say "r1# ip -4 addr show dev eth0"
show "$VM_OUT"

step "(b) r1: $INIT stop; the VIP moves to r2"
t=$(vm_now_ms)
expect_ok r1 "$INIT stop" "$INIT stop"
expect_ok r1 "no pidfile, no keepalived-rs process" \
	"[ ! -e $PIDFILE ] && ! ps | grep -q '[k]eepalived-rs'"
wait_holders r2 20 "r1 stopped (priority 0 advert)" &&
	timing "(b) stop on master: VIP on r2 only" $(($(vm_now_ms) - t))

step "(c) r1: $INIT start; r1 has the higher priority and takes the VIP back"
t=$(vm_now_ms)
expect_ok r1 "$INIT start" "$INIT start"
wait_holders r1 30 "r1 preempts" &&
	timing "(c) start again: preempted back to r1" $(($(vm_now_ms) - t))
stays_on r1 2

step "(d) pull r1's cable (qemu monitor: set_link n0 off); the VIP moves to r2"
t=$(vm_now_ms)
vm_monitor r1 "set_link n0 off"
wait_holders r2 20 "r1's link down" &&
	timing "(d) link cut on master: VIP on r2 only" $(($(vm_now_ms) - t))
vm_run r1 10 "grep -E 'eth0 down|FAULT' /var/log/messages | tail -n 2"
say "r1 syslog:"
show "$VM_OUT"
say "plug the cable back in (set_link n0 on)"
t=$(vm_now_ms)
vm_monitor r1 "set_link n0 on"
wait_holders r1 30 "r1's link up again" &&
	timing "(d) link restored: preempted back to r1" $(($(vm_now_ms) - t))

step "(e) r1: $INIT reload; the daemon keeps running"
vm_run r1 10 "cat $PIDFILE"
pid_before=$VM_OUT
expect_ok r1 "$INIT reload" "$INIT reload"
sleep 1
expect_ok r1 "pidfile present, same pid ($pid_before), process alive" \
	"[ \"\$(cat $PIDFILE)\" = '$pid_before' ] && kill -0 $pid_before"
vm_run r1 10 "grep -i reload /var/log/messages | tail -n 1"
say "r1 syslog after SIGHUP:"
show "$VM_OUT"
stays_on r1 2

step "(f) the daemon logs through busybox syslogd (/var/log/messages)"
for r in r1 r2; do
	expect_ok "$r" "'Entering MASTER STATE' in /var/log/messages" \
		"grep -q 'Keepalived_vrrp\[[0-9]*\]: (VI_1) Entering MASTER STATE' /var/log/messages"
done
for r in r1 r2; do
	vm_run "$r" 10 "grep Keepalived_vrrp /var/log/messages"
	say "$r# grep Keepalived_vrrp /var/log/messages"
	show "$VM_OUT"
done

step "times (host clock, console round trips included)"
for line in "${TIMES[@]}"; do
	say "$line"
done

echo
if [ "$FAILS" -gt 0 ]; then
	echo "run-pair.sh ($R1_ARCH + $R2_ARCH): FAILED scenario(s): ${FAILED_STEPS[*]}"
	for r in r1 r2; do
		if vm_run "$r" 10 "tail -n 40 /var/log/messages"; then
			echo "---- $r: tail of /var/log/messages ----"
			show "$VM_OUT"
		fi
		vm_tail "$r" 30
	done
	echo "run-pair.sh: $FAILS of $CHECKS checks FAILED (console logs: $VM_IMAGES/logs/)"
	exit 1
fi
echo "run-pair.sh: all $CHECKS checks passed"
