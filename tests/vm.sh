#!/bin/bash
# keepalived-rs on real kernels under qemu (the host kernel lacks dummy,
# netem and IPVS), on both boards, board/qemu-x86_64 and board/qemu-aarch64:
# build the static musl binaries and the lab VM images, run the two-router
# failover scenarios (run-pair.sh) on each board, then on mixed segments
# (r1 x86_64 + r2 aarch64, then r1 aarch64 + r2 x86_64: the VIP fails over
# both ways, each architecture once master and once backup), and every single-VM
# scenario (run-one.sh --all) on each board.
#
#   tests/vm.sh              everything
#   tests/vm.sh --pair       only the run-pair.sh runs
#   tests/vm.sh --one NAME.. only these scenarios
#
# VM_BOARDS="x86_64 aarch64" (the default) chooses the boards; the mixed
# pair runs when both are chosen.
# Needs root (the image holds /dev/console) and qemu-system-x86/-arm
# (installed by build.sh if missing). KEEPALIVED_RS_SKIP_VM=1 skips it, saying so.
# Bounded: VM_TEST_TIMEOUT seconds in all (default 1500), build included.
# Exits non-zero on any failed check.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
read -r -a BOARDS <<<"${VM_BOARDS:-x86_64 aarch64}"
TOTAL=${VM_TEST_TIMEOUT:-1500}

if [ "${KEEPALIVED_RS_SKIP_VM:-}" = 1 ]; then
	echo "tests/vm.sh: SKIPPED (KEEPALIVED_RS_SKIP_VM=1)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/vm.sh: needs root (set KEEPALIVED_RS_SKIP_VM=1 to skip)" >&2
	exit 1
fi

pair=1
one=(--all)
case "${1:-}" in
	"") ;;
	--pair) one=() ;;
	--one)
		pair=0
		shift
		one=("$@")
		[ "${#one[@]}" -gt 0 ] || {
			echo "tests/vm.sh: --one needs scenario names" >&2
			exit 1
		}
		;;
	*)
		sed -n '2,19p' "${BASH_SOURCE[0]}"
		exit 1
		;;
esac

start=$(date +%s)
left() { echo $((TOTAL - ($(date +%s) - start))); }

# Run a step with what is left of the budget; timeout sends TERM, and the
# scripts' traps then kill their qemu processes.
run_step() { # NAME CMD...
	local name=$1 budget t0 rc=0
	shift
	budget=$(left)
	if [ "$budget" -le 0 ]; then
		echo "tests/vm.sh: out of time before $name (VM_TEST_TIMEOUT=$TOTAL)" >&2
		return 1
	fi
	t0=$(date +%s)
	timeout -k 10 "$budget" "$@" || rc=$?
	if [ "$rc" -eq 124 ]; then
		echo "tests/vm.sh: $name timed out (VM_TEST_TIMEOUT=$TOTAL)" >&2
	fi
	echo "tests/vm.sh: $name took $(($(date +%s) - t0)) s (exit $rc)"
	return "$rc"
}

failed=()
for b in "${BOARDS[@]}"; do
	run_step "build $b" "$REPO/board/qemu-$b/build.sh" || {
		echo "tests/vm.sh: FAILED: image build ($b)" >&2
		exit 1
	}
done
if [ "$pair" -eq 1 ]; then
	for b in "${BOARDS[@]}"; do
		run_step "run-pair $b" "$REPO/board/qemu-$b/run-pair.sh" || failed+=("run-pair($b)")
	done
	if [ "${#BOARDS[@]}" -gt 1 ]; then
		# One VRRP group of an x86_64 and an aarch64 router, each architecture
		# once the master that fails over and once the backup that takes over.
		for mix in "x86_64 aarch64" "aarch64 x86_64"; do
			read -r a1 a2 <<<"$mix"
			R1_ARCH=$a1 R2_ARCH=$a2 run_step "run-pair $a1+$a2" \
				"$REPO/board/qemu-x86_64/run-pair.sh" || failed+=("run-pair($a1+$a2)")
		done
	fi
fi
if [ "${#one[@]}" -gt 0 ]; then
	for b in "${BOARDS[@]}"; do
		run_step "run-one $b" "$REPO/board/qemu-$b/run-one.sh" "${one[@]}" ||
			failed+=("run-one($b)")
	done
fi

if [ "${#failed[@]}" -gt 0 ]; then
	echo "tests/vm.sh: FAILED: ${failed[*]} ($(($(date +%s) - start)) s)" >&2
	exit 1
fi
echo "tests/vm.sh: all passed ($(($(date +%s) - start)) s)"
