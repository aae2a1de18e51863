#!/bin/bash
# keepalived-rs on real kernels under qemu (the host kernel lacks dummy,
# netem and IPVS): build the static musl binary and the lab VM images, run
# the two-router failover scenarios (board/qemu-x86_64/run-pair.sh) and every
# single-VM scenario (board/qemu-x86_64/run-one.sh --all).
#
#   tests/vm.sh              everything
#   tests/vm.sh --pair       only run-pair.sh
#   tests/vm.sh --one NAME.. only these scenarios
#
# Needs root (the image holds /dev/console) and qemu-system-x86 (installed by
# build.sh if missing). KEEPALIVED_RS_SKIP_VM=1 skips it, saying so.
# Bounded: VM_TEST_TIMEOUT seconds in all (default 900), build included.
# Exits non-zero on any failed check.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BOARD=$REPO/board/qemu-x86_64
TOTAL=${VM_TEST_TIMEOUT:-900}

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
		sed -n '2,15p' "${BASH_SOURCE[0]}"
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
run_step build "$BOARD/build.sh" || {
	echo "tests/vm.sh: FAILED: image build" >&2
	exit 1
}
if [ "$pair" -eq 1 ]; then
	run_step run-pair "$BOARD/run-pair.sh" || failed+=(run-pair)
fi
if [ "${#one[@]}" -gt 0 ]; then
	run_step run-one "$BOARD/run-one.sh" "${one[@]}" || failed+=(run-one)
fi

if [ "${#failed[@]}" -gt 0 ]; then
	echo "tests/vm.sh: FAILED: ${failed[*]} ($(($(date +%s) - start)) s)" >&2
	exit 1
fi
echo "tests/vm.sh: all passed ($(($(date +%s) - start)) s)"
