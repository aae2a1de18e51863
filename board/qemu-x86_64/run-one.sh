#!/bin/bash
# Boot one lab router VM and run scenarios inside it.
#
#   board/qemu-x86_64/run-one.sh SCENARIO...   e.g. run-one.sh boot kernel
#   board/qemu-x86_64/run-one.sh --all         every scenarios/*.sh
#   board/qemu-x86_64/run-one.sh --shell       interactive console (Ctrl-a x quits)
#
# A scenario is scenarios/NAME.sh: a busybox sh script run as root inside a
# freshly booted VM (router "vm", eth0 192.0.2.10/24 alone on its segment,
# keepalived-rs started by init from /etc/init.d/S45keepalived-rs). It exits 0
# when it passes. The whole scenarios/ directory is in the VM at /scenarios,
# so a scenario can carry data files (configs, ...). Helpers:
# /usr/share/lab/lib.sh (check, wait_for, has_addr, ...). Each scenario gets
# its own VM. Build the images first: board/qemu-x86_64/build.sh.
#
# Environment: SCENARIO_TIMEOUT (seconds per scenario, default 300); VM_ARCH
# (x86_64 or aarch64, default x86_64: board/qemu-aarch64/run-one.sh sets it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-300}

usage() {
	sed -n '2,16p' "${BASH_SOURCE[0]}"
	exit "${1:-0}"
}

[ "$#" -gt 0 ] || usage 1
command -v "$ARCH_QEMU" >/dev/null || {
	echo "run-one.sh: $ARCH_QEMU missing (run board/qemu-$VM_ARCH/build.sh)" >&2
	exit 1
}

# The image of router "vm" with the scenarios/ directory layered on top.
make_initrd() { # OUTPUT
	local tmp
	tmp=$(mktemp -d "$VM_DIR/overlay.XXXXXX")
	mkdir -p "$tmp/scenarios"
	cp -a "$HERE/scenarios/." "$tmp/scenarios/"
	cat "$VM_IMAGES/initramfs-vm.cpio.gz" >"$1"
	(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
		gzip >>"$1"
	rm -rf "$tmp"
}

if [ "$1" = --shell ]; then
	vm_init
	make_initrd "$VM_DIR/initrd"
	echo "run-one.sh: interactive console, quit with Ctrl-a x"
	"$ARCH_QEMU" "${ARCH_MACHINE[@]}" -m "$VM_MEM" -nodefaults -nographic -no-reboot \
		-serial mon:stdio -kernel "$VM_IMAGES/vmlinuz" -initrd "$VM_DIR/initrd" \
		-append "console=$ARCH_CONSOLE quiet loglevel=3 panic=-1" \
		-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,romfile=
	exit 0
fi

scenarios=()
if [ "$1" = --all ]; then
	for f in "$HERE"/scenarios/*.sh; do
		scenarios+=("$(basename "$f" .sh)")
	done
else
	for s in "$@"; do
		s=$(basename "$s" .sh)
		[ -f "$HERE/scenarios/$s.sh" ] || {
			echo "run-one.sh: no scenario $HERE/scenarios/$s.sh" >&2
			exit 1
		}
		scenarios+=("$s")
	done
fi

vm_init
make_initrd "$VM_DIR/initrd"
failed=()
n=0
for s in "${scenarios[@]}"; do
	n=$((n + 1))
	name=vm$n
	echo "== scenario $s ($VM_ARCH)"
	t0=$(vm_now_ms)
	# One NIC on a hub of its own: eth0 has carrier, nobody else is there.
	vm_start "$name" "$VM_DIR/initrd" "52:54:00:00:01:$(printf %02x "$n")" \
		-netdev "hubport,id=n0,hubid=0"
	if ! vm_boot_wait "$name" 120; then
		failed+=("$s")
		vm_stop "$name"
		continue
	fi
	t1=$(vm_now_ms)
	echo "   booted in $((t1 - t0)) ms"
	if vm_run "$name" "$SCENARIO_TIMEOUT" "sh /scenarios/$s.sh 2>&1"; then
		printf '%s\n' "$VM_OUT"
		rc=$VM_RC
	else
		printf '%s\n' "$VM_OUT"
		echo "   (no answer within ${SCENARIO_TIMEOUT}s)"
		rc=timeout
	fi
	t2=$(vm_now_ms)
	if [ "$rc" = 0 ]; then
		echo "== scenario $s: PASS (boot $((t1 - t0)) ms, scenario $((t2 - t1)) ms)"
	else
		echo "== scenario $s: FAIL (exit $rc; boot $((t1 - t0)) ms, scenario $((t2 - t1)) ms)"
		vm_tail "$name" 20
		failed+=("$s")
	fi
	vm_stop "$name"
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "run-one.sh: FAILED: ${failed[*]}"
	exit 1
fi
echo "run-one.sh: all ${#scenarios[@]} scenario(s) passed"
