# shellcheck shell=bash
# shellcheck disable=SC2034 # VM_OUT, VM_RC, VM_MS are results for the caller
# Host-side helpers to boot lab VMs under qemu (TCG) and drive them over their
# serial consoles. Sourced by run-pair.sh and run-one.sh.
#
#   vm_init                      work dir + cleanup trap (kills every qemu on exit)
#   vm_start NAME INITRD MAC [qemu netdev args...]   (the netdev must be id=n0)
#                                boots a VM of architecture $VM_ARCH (x86_64 by
#                                default, or aarch64; set it before each vm_start
#                                to mix them on one segment); its memory is $VM_MEM MiB
#                                (default 256) and, when $VM_SMP is set, it has
#                                that many CPUs (default: qemu's one)
#   vm_images ARCH               the image directory of build.sh --arch ARCH
#   vm_wire SELF PEER            netdev args: a cable between two VMs
#   vm_boot_wait NAME [TIMEOUT]  wait for the shell, switch it to command mode
#   vm_run NAME TIMEOUT CMD      run CMD; sets VM_OUT (its output) and VM_RC
#   vm_until NAME TIMEOUT CMD    repeat CMD until it succeeds; sets VM_MS
#   vm_monitor NAME CMD          a qemu monitor command (e.g. "set_link n0 off")
#
# Console protocol: busybox init gives ttyS0 a root shell; vm_boot_wait turns
# echo off and replaces it by a prompt-less loop that evaluates one line at a
# time with stdin from /dev/null. Every command is sent as
#   CMD; echo "@@END:N:$?"
# and its output is whatever the console printed before that marker.
# Everything waits with a deadline; nothing blocks forever.

VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_REPO=$(cd "$VM_HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=arch.sh
. "$VM_HERE/arch.sh"
VM_ARCH=${VM_ARCH:-x86_64}
vm_arch "$VM_ARCH" || exit 1
VM_IMAGES=$ARCH_IMAGES
VM_MEM=${VM_MEM:-256}
VM_DIR=""
VM_SEQ=0
VM_OUT=""
VM_RC=0
VM_MS=0
declare -A VM_FD=() VM_MONFD=() VM_PIDS_OF=() VM_ARCH_OF=()
VM_PIDS=()

vm_images() { # ARCH
	vm_arch "$1" && echo "$ARCH_IMAGES"
}

vm_now_ms() { echo $(($(date +%s%N) / 1000000)); }

vm_log() { printf '%s\n' "$*"; }

vm_init() {
	VM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kars-vm.$$.XXXXXX")
	trap vm_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Kill processes we started, by pid: TERM, up to 5 s, then KILL.
vm_kill_pids() { # PID...
	local pid i
	for pid in "$@"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
}

# Kill every qemu and reader we started, keep the console logs in
# target/vm/logs/ for a look after a failure, remove the work dir.
vm_cleanup() {
	local rc=$?
	trap - EXIT
	if [ "${#VM_PIDS[@]}" -gt 0 ]; then
		vm_kill_pids "${VM_PIDS[@]}"
	fi
	if [ -n "$VM_DIR" ] && [ -d "$VM_DIR" ]; then
		mkdir -p "$VM_IMAGES/logs"
		cp "$VM_DIR"/*.log "$VM_IMAGES/logs/" 2>/dev/null || true
		rm -rf "$VM_DIR"
	fi
	exit "$rc"
}

# A point-to-point Ethernet cable between VM SELF and VM PEER, for
#   vm_start SELF ... -netdev "$(vm_wire SELF PEER)"
#   vm_start PEER ... -netdev "$(vm_wire PEER SELF)"
# Each qemu binds a unix datagram socket in the work dir and sends to the
# other's: host-local, no bridge, no host network, and (unlike -netdev
# socket,mcast=) a VM does not receive its own frames back. Frames sent
# before the peer is up are dropped, like on an unplugged cable.
vm_wire() { # SELF PEER
	echo "dgram,id=n0,local.type=unix,local.path=$VM_DIR/$1.sock,remote.type=unix,remote.path=$VM_DIR/$2.sock"
}

vm_start() { # NAME INITRD MAC [netdev args...]
	local name=$1 initrd=$2 mac=$3
	shift 3
	local d=$VM_DIR
	vm_arch "$VM_ARCH" || return 1
	[ -f "$initrd" ] || {
		echo "vm_start: no $initrd (run board/qemu-$VM_ARCH/build.sh)" >&2
		return 1
	}
	VM_ARCH_OF[$name]=$VM_ARCH
	mkfifo "$d/$name.con.in" "$d/$name.con.out" "$d/$name.mon.in" "$d/$name.mon.out"
	: >"$d/$name.console.log"
	: >"$d/$name.monitor.log"
	# shellcheck disable=SC2086 # VM_SMP is one number or empty
	"$ARCH_QEMU" "${ARCH_MACHINE[@]}" -m "$VM_MEM" ${VM_SMP:+-smp $VM_SMP} -nodefaults -display none -no-reboot \
		-kernel "$ARCH_IMAGES/vmlinuz" -initrd "$initrd" \
		-append "console=$ARCH_CONSOLE quiet loglevel=3 panic=-1 ${VM_APPEND:-}" \
		-chardev "pipe,id=con,path=$d/$name.con" -serial chardev:con \
		-chardev "pipe,id=mon,path=$d/$name.mon" -mon chardev=mon,mode=readline \
		"$@" -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
		>"$d/$name.qemu.log" 2>&1 &
	local pids=$!
	# qemu opens the fifos read-write, so neither side blocks on open.
	cat <"$d/$name.con.out" >>"$d/$name.console.log" &
	pids="$pids $!"
	cat <"$d/$name.mon.out" >>"$d/$name.monitor.log" &
	pids="$pids $!"
	VM_PIDS_OF[$name]=$pids
	# shellcheck disable=SC2206 # pids are words
	VM_PIDS+=($pids)
	local fd mfd
	exec {fd}<>"$d/$name.con.in"
	exec {mfd}<>"$d/$name.mon.in"
	VM_FD[$name]=$fd
	VM_MONFD[$name]=$mfd
}

# Power a VM off (kill its qemu) and close its console.
vm_stop() { # NAME
	local name=$1
	# shellcheck disable=SC2086 # pids are words
	vm_kill_pids ${VM_PIDS_OF[$name]}
	local fd=${VM_FD[$name]} mfd=${VM_MONFD[$name]}
	exec {fd}>&- {mfd}>&-
	rm -f "$VM_DIR/$name".con.* "$VM_DIR/$name".mon.*
}

vm_console_log() { echo "$VM_DIR/$1.console.log"; }

# Print the last lines a VM's console showed (for failure reports).
vm_tail() { # NAME [LINES]
	echo "---- last console lines of $1 ----"
	tr -d '\r' <"$VM_DIR/$1.console.log" | tail -n "${2:-30}"
	echo "----"
}

vm_send() { printf '%s\n' "$2" >&"${VM_FD[$1]}"; }

# Wait until the login shell is up, then switch to the command loop.
vm_boot_wait() { # NAME [TIMEOUT_S]
	local name=$1 timeout=${2:-90} start deadline
	start=$(vm_now_ms)
	deadline=$((start + timeout * 1000))
	until grep -q 'keepalived-rs lab VM .* ready' "$VM_DIR/$name.console.log"; do
		if [ "$(vm_now_ms)" -ge "$deadline" ]; then
			echo "$name: no shell after ${timeout}s" >&2
			vm_tail "$name"
			return 1
		fi
		sleep 0.1
	done
	# shellcheck disable=SC2016 # expanded inside the VM
	vm_send "$name" 'stty -echo; exec sh -c '\''while IFS= read -r l; do eval "$l" </dev/null; done'\'''
	# The first command also proves the loop runs (type-ahead is harmless).
	for _ in 1 2 3 4 5; do
		vm_run "$name" 5 true && return 0
	done
	echo "$name: console does not answer" >&2
	vm_tail "$name"
	return 1
}

# Run CMD in the VM. Returns 1 if no answer within TIMEOUT_S, else 0 with
# VM_RC = CMD's exit status and VM_OUT = its output.
vm_run() { # NAME TIMEOUT_S CMD
	local name=$1 timeout=$2 cmd=$3 log off deadline out
	log=$VM_DIR/$name.console.log
	VM_SEQ=$((VM_SEQ + 1))
	local marker="@@END:$VM_SEQ:"
	off=$(stat -c %s "$log")
	vm_send "$name" "$cmd; echo \"@@END:$VM_SEQ:\$?\""
	deadline=$(($(vm_now_ms) + timeout * 1000))
	while :; do
		out=$(tail -c "+$((off + 1))" "$log" | tr -d '\r')
		if [[ $out == *"$marker"* ]]; then
			VM_RC=$(printf '%s\n' "$out" | sed -n "s/^.*$marker\([0-9]*\).*/\1/p" | head -n 1)
			VM_OUT=$(printf '%s\n' "$out" | sed "/$marker/,\$d")
			return 0
		fi
		if [ "$(vm_now_ms)" -ge "$deadline" ]; then
			VM_RC=255
			VM_OUT=$out
			return 1
		fi
		sleep 0.05
	done
}

# Repeat CMD (each try bounded by 10 s) until it exits 0 or TIMEOUT_S passed.
# VM_MS = milliseconds from the call to the first success.
vm_until() { # NAME TIMEOUT_S CMD
	local name=$1 timeout=$2 cmd=$3 start
	start=$(vm_now_ms)
	while :; do
		if vm_run "$name" 10 "$cmd" && [ "$VM_RC" = 0 ]; then
			VM_MS=$(($(vm_now_ms) - start))
			return 0
		fi
		if [ $(($(vm_now_ms) - start)) -ge $((timeout * 1000)) ]; then
			VM_MS=$(($(vm_now_ms) - start))
			return 1
		fi
		sleep 0.1
	done
}

vm_monitor() { # NAME CMD
	printf '%s\n' "$2" >&"${VM_MONFD[$1]}"
}
