#!/usr/bin/env bash
# Load-balancer benchmark: keepalived-rs and keepalived's checker on the same configuration, in
# the same kind of lab VM (board/qemu-x86_64: Debian's kernel with IPVS, TCG), one markdown table.
#
# Per size N (real servers) and daemon, a fresh VM (VM_MEM MiB, VM_SMP CPUs) runs:
#   - the servers' network namespace behind a veth pair: lb0 203.0.113.1/24 (daemon side),
#     eth0 203.0.113.2/24 (servers' side), 198.51.100.1-100/32 on its lo, a route to
#     198.51.100.0/24 via 203.0.113.2. In it, the helper (tests/lb_bench.rs, `serve`) listens
#     on TCP ports 10001..10000+N/100 on 0.0.0.0, accepts and closes every connection and notes
#     its time per real server (the accepted socket's local address and port), and receives the
#     VRRP adverts on a raw socket with kernel timestamps;
#   - the daemon with one configuration: N/100 virtual servers 192.0.2.100:10001.. (rr, NAT,
#     TCP), each with 100 real servers 198.51.100.1..100 on the virtual server's port, every one
#     with TCP_CHECK { connect_timeout 3 } at delay_loop 1; and one VRRP instance (VRRPv3,
#     advert_int 0.1, state MASTER, priority 150) on lb0. keepalived-rs is one process;
#     keepalived 2.2.7 (the host's, copied into the VM with its shared libraries and loader) runs
#     in full (-n, neither -P nor -C): parent, VRRP child, checker child; its CPU and PSS are the
#     sum of the three.
# Columns:
#   program ms    from just before the daemon is spawned to /proc/net/ip_vs listing N
#                 destinations (polled every 20 ms by the helper's `start`)
#   checks/s      accepts per second at the servers in the window (N is on time; fewer means
#                 the daemon, or the VM, could not keep up: under TCG both daemons saturate one
#                 emulated CPU well below 1,000 checks/s, so lateness then measures throughput)
#   check late    gap between two accepts of one real server minus delay_loop (1000 ms), over
#                 all real servers and the BENCH_SECONDS window: median / p99 / max ms
#   CPU %         utime+stime of the daemon's processes (/proc/PID/stat) over the window, as a
#                 percentage of one (emulated) CPU
#                 (the raw lines give each process's ticks: keepalived's parent, VRRP, checker)
#   PSS KiB       smaps_rollup's Pss of the daemon's processes at the end of the window
#   advert late   gap between two VRRP adverts (kernel receive time at the servers' side) minus
#                 100 ms, over the window: median / p99 / max ms
#   reload ms     SIGHUP with one real server's weight changed (198.51.100.1:10001, 1 -> 2) to
#                 /proc/net/ip_vs showing the new weight (polled every 20 ms); "min dests" is
#                 the fewest destinations listed meanwhile (N: no destination was removed)
# The checks start BENCH_SETTLE s after the N destinations are programmed; the window is then
# BENCH_SECONDS s; the reload comes after the window.
#
# Usage: tests/bench/lb.sh [N...]            (default: 1000 10000; N a multiple of 100, <= 10000)
# Environment:
#   BENCH_SECONDS=20     measurement window
#   BENCH_SETTLE=10      seconds between programmed and the window
#   BENCH_RUNS=1         VMs per daemon and size; the table shows the median of the runs
#   BENCH_WAIT_VMS=900   wait up to this many seconds before each VM for other qemu-system
#                        processes (another user's VMs) to end; then run anyway and say so
#   BENCH_NO_BUILD=1     use the images and helper already built (else build.sh runs first)
#   VM_MEM=1024 VM_SMP=2 the VM's memory (MiB) and CPUs
# Needs root (build.sh, the image's /dev/console). Installs keepalived if missing.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$PWD
SECONDS_WINDOW=${BENCH_SECONDS:-20}
SETTLE=${BENCH_SETTLE:-10}
RUNS=${BENCH_RUNS:-1}
WAIT_VMS=${BENCH_WAIT_VMS:-900}
export VM_MEM=${VM_MEM:-1024}
export VM_SMP=${VM_SMP:-2}
SIZES=("$@")
[ "${#SIZES[@]}" -gt 0 ] || SIZES=(1000 10000)

die() {
	echo "lb.sh: $*" >&2
	exit 1
}
log() { echo "lb.sh: $*" >&2; }

for n in "${SIZES[@]}"; do
	if ! [[ $n =~ ^[1-9][0-9]*00$ ]] || [ "$n" -gt 10000 ]; then die "sizes are multiples of 100 up to 10000 (got $n)"; fi
done
for v in "$SECONDS_WINDOW" "$SETTLE" "$RUNS" "$WAIT_VMS"; do
	[[ $v =~ ^[0-9]{1,5}$ ]] || die "BENCH_* values are whole numbers (got '$v')"
done
[ "$(id -u)" -eq 0 ] || die "needs root (board/qemu-x86_64/build.sh)"

if [ ! -x /usr/sbin/keepalived ]; then
	log "installing keepalived"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y keepalived >/dev/null ||
		die "apt-get install keepalived failed"
fi
KA_VERSION=$(/usr/sbin/keepalived --version 2>&1 | awk 'NR == 1 { print $2 }')

# --- images and the helper ---------------------------------------------------------------
TARGET=x86_64-unknown-linux-musl
if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
	board/qemu-x86_64/build.sh
fi
# The helper as build.sh builds its lab tests (same flags, so the same build cache).
HELPER=$(RUSTFLAGS="${RUSTFLAGS:-} -C relocation-model=static" cargo test --quiet --release \
	--target "$TARGET" --test lb_bench --no-run --message-format=json |
	sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | grep "/lb_bench-[0-9a-f]*$" | tail -n 1)
[ -x "$HELPER" ] || die "cargo test --test lb_bench built no executable"

# shellcheck source=board/qemu-x86_64/lib.sh
. board/qemu-x86_64/lib.sh
RS_BIN=${CARGO_TARGET_DIR:-$REPO/target}/$TARGET/release/keepalived-rs
[ -f "$VM_IMAGES/initramfs-vm.cpio.gz" ] || die "no $VM_IMAGES/initramfs-vm.cpio.gz (board/qemu-x86_64/build.sh)"
vm_init

# --- the overlay: helper, inner script, configurations, keepalived and its libraries -------
OV=$VM_DIR/overlay
mkdir -p "$OV/opt/lbbench" "$OV/usr/sbin" "$OV/lib64" "$OV/etc/keepalived"
install -m 755 "$HELPER" "$OV/opt/lbbench/helper"
install -m 755 /usr/sbin/keepalived "$OV/usr/sbin/keepalived"
ldd /usr/sbin/keepalived | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
	mkdir -p "$OV$(dirname "$lib")"
	cp -L "$lib" "$OV$lib"
done
[ -f "$OV/lib64/ld-linux-x86-64.so.2" ] || die "keepalived's loader was not found by ldd"

# gen_conf N WEIGHT1: the configuration; WEIGHT1 is the weight of 198.51.100.1:10001.
gen_conf() {
	local n=$1 w1=$2 s r w
	printf 'global_defs {\n    router_id lbbench\n    vrrp_version 3\n}\n'
	printf 'vrrp_instance VI_1 {\n    state MASTER\n    interface lb0\n    virtual_router_id 51\n'
	printf '    priority 150\n    advert_int 0.1\n    virtual_ipaddress {\n        203.0.113.100/32\n    }\n}\n'
	for ((s = 1; s <= n / 100; s++)); do
		printf 'virtual_server 192.0.2.100 %d {\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n' $((10000 + s))
		for ((r = 1; r <= 100; r++)); do
			w=1
			[ "$s" = 1 ] && [ "$r" = 1 ] && w=$w1
			printf '    real_server 198.51.100.%d %d {\n        weight %d\n        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n' \
				"$r" $((10000 + s)) "$w"
		done
		printf '}\n'
	done
}
for n in "${SIZES[@]}"; do
	gen_conf "$n" 1 >"$OV/opt/lbbench/lb-$n.conf"
	gen_conf "$n" 2 >"$OV/opt/lbbench/lb-$n-changed.conf"
done

# The script the VM runs: inner.sh DAEMON N SECONDS SETTLE. Prints "RESULT KEY VALUE..." lines.
cat >"$OV/opt/lbbench/inner.sh" <<'INNER'
#!/bin/sh
impl=$1 n=$2 secs=$3 settle=$4
H=/opt/lbbench/helper
helper() { env "$@" "$H" --ignored --exact helper --nocapture --test-threads=1 2>&1; }
result() { echo "RESULT $*"; }
ticks() { # PID...: utime + stime in clock ticks
	t=0
	for p in "$@"; do
		v=$(cut -d')' -f2 "/proc/$p/stat" | awk '{ print $12 + $13 }')
		t=$((t + v))
	done
	echo "$t"
}
pss() { # PID...: KiB
	t=0
	for p in "$@"; do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")
		t=$((t + v))
	done
	echo "$t"
}
uptime_cs() { read -r u _ </proc/uptime; echo "${u%.*}${u#*.}"; }

/etc/init.d/S45keepalived-rs stop >/dev/null 2>&1
ulimit -n 65536
modprobe crc32c_generic && modprobe ip_vs_rr && modprobe veth || { echo "modprobe failed"; exit 1; }

# The servers' namespace behind a veth pair (busybox ip ignores "peer name").
unshare -n sleep 100000 &
ns=$!
sleep 0.2
ip link add lb0 type veth
peer=
for d in /sys/class/net/veth*; do peer=${d##*/}; break; done
ip link set "$peer" netns "$ns"
ip addr add 203.0.113.1/24 dev lb0
ip link set lb0 up
nsenter -t "$ns" -n sh -c "
	ip link set lo up && ip link set $peer name eth0 && ip addr add 203.0.113.2/24 dev eth0 &&
	ip link set eth0 up && for i in \$(seq 1 100); do ip addr add 198.51.100.\$i/32 dev lo; done" ||
	{ echo "namespace setup failed"; exit 1; }
ip route add 198.51.100.0/24 via 203.0.113.2

last=$((10000 + n / 100))
nsenter -t "$ns" -n env LB_MODE=serve LB_PORTS=10001-$last LB_IFACE=eth0 \
	"$H" --ignored --exact helper --nocapture --test-threads=1 >/tmp/serve.out 2>&1 &
serve=$!
i=0
until grep -q 'serving' /tmp/serve.out; do
	i=$((i + 1)); [ "$i" -lt 100 ] || { echo "serve did not start:"; cat /tmp/serve.out; exit 1; }
	sleep 0.1
done

cp "/opt/lbbench/lb-$n.conf" /tmp/lb.conf
if [ "$impl" = rs ]; then
	cmd="/usr/sbin/keepalived-rs -n -l -G -f /tmp/lb.conf -p /run/lbb.pid"
else
	cmd="/usr/sbin/keepalived -n -l -G -f /tmp/lb.conf -p /run/lbb.pid -r /run/lbb-vrrp.pid -c /run/lbb-check.pid"
fi
out=$(helper LB_MODE=start LB_CMD="$cmd" LB_DESTS="$n" LB_LOG=/tmp/daemon.log LB_TIMEOUT_S=600)
result "$(echo "$out" | grep -o 'program_ms .*')"
i=0
pidfiles=/run/lbb.pid
[ "$impl" = ka ] && pidfiles="/run/lbb.pid /run/lbb-vrrp.pid /run/lbb-check.pid"
for f in $pidfiles; do
	until [ -s "$f" ]; do
		i=$((i + 1)); [ "$i" -lt 300 ] || { echo "no $f"; tail -n 20 /tmp/daemon.log; exit 1; }
		sleep 0.1
	done
done
pids=
for f in $pidfiles; do pids="$pids $(cat "$f")"; done
main=$(cat /run/lbb.pid)
result pids "$pids"

sleep "$settle"
# shellcheck disable=SC2086 # pids are words
for p in $pids; do eval "t0_$p=\$(ticks $p)"; done
# shellcheck disable=SC2086 # pids are words
c0=$(ticks $pids)
u0=$(uptime_cs)
kill -USR1 "$serve"
sleep "$secs"
kill -USR2 "$serve"
# shellcheck disable=SC2086
c1=$(ticks $pids)
u1=$(uptime_cs)
# shellcheck disable=SC2086
result pss_kib "$(pss $pids)"
per=
for p in $pids; do eval "per=\"\$per \$((\$(ticks $p) - t0_$p))\""; done
result cpu_ticks_per_pid "$per"
result cpu_pct "$(awk -v c=$((c1 - c0)) -v u=$((u1 - u0)) -v hz=100 'BEGIN { printf "%.1f", c / hz / (u / 100) * 100 }')"
i=0
until grep -q 'adverts [0-9]' /tmp/serve.out; do
	i=$((i + 1)); [ "$i" -lt 300 ] || break
	sleep 0.1
done
result "$(grep -o 'checks [0-9].*' /tmp/serve.out)"
result "$(grep -o 'adverts [0-9].*' /tmp/serve.out)"
result dests_before_reload "$(grep -c -- '-> [0-9A-F]' /proc/net/ip_vs)"

cp "/opt/lbbench/lb-$n-changed.conf" /tmp/lb.conf
# 198.51.100.1:10001 in the kernel's hex.
out=$(helper LB_MODE=reload LB_PID="$main" LB_MATCH=C6336401:2711 LB_WEIGHT=2 LB_TIMEOUT_S=600)
result "$(echo "$out" | grep -o 'reload_ms .*')"
sleep 2
result dests_after_reload "$(grep -c -- '-> [0-9A-F]' /proc/net/ip_vs)"
alive=yes
for p in $pids; do kill -0 "$p" 2>/dev/null || alive=no; done
result alive "$alive"
result log_lines "$(wc -l </tmp/daemon.log)"
tail -n 4 /tmp/daemon.log | sed 's/^/TAIL /'
grep -i -E 'error|fail|warn|cannot|refus' /tmp/daemon.log | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/LOG /'
kill -TERM "$main"
i=0
while kill -0 "$main" 2>/dev/null; do
	i=$((i + 1)); [ "$i" -lt 200 ] || break
	sleep 0.1
done
kill "$serve" "$ns" 2>/dev/null
exit 0
INNER
chmod 755 "$OV/opt/lbbench/inner.sh"

INITRD=$VM_DIR/initrd
cp "$VM_IMAGES/initramfs-vm.cpio.gz" "$INITRD"
(cd "$OV" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 >>"$INITRD"

# --- runs ----------------------------------------------------------------------------------
RAW=()    # "impl n run key value..."
NOTES=()
wait_for_other_vms() {
	local waited=0
	while pgrep qemu-system >/dev/null; do
		if [ "$waited" -ge "$WAIT_VMS" ]; then
			NOTES+=("another qemu-system was running during the $1 run (waited ${WAIT_VMS}s)")
			return 0
		fi
		[ "$waited" = 0 ] && log "waiting (up to ${WAIT_VMS}s) for other VMs to end"
		sleep 5
		waited=$((waited + 5))
	done
}

name_of() { if [ "$1" = rs ]; then echo keepalived-rs; else echo "keepalived $KA_VERSION"; fi; }

seq_no=0
for n in "${SIZES[@]}"; do
	for run in $(seq 1 "$RUNS"); do
		for impl in rs ka; do
			seq_no=$((seq_no + 1))
			name=$impl$n-$run
			wait_for_other_vms "$name"
			log "$(name_of "$impl"), $n real servers, run $run: booting"
			vm_start "$name" "$INITRD" "52:54:00:00:02:$(printf %02x $((seq_no % 256)))" \
				-netdev "hubport,id=n0,hubid=0"
			vm_boot_wait "$name" 300 || die "$name did not boot"
			vm_run "$name" 1800 "sh /opt/lbbench/inner.sh $impl $n $SECONDS_WINDOW $SETTLE 2>&1" ||
				{ printf '%s\n' "$VM_OUT" >&2; die "$name: no answer from the benchmark"; }
			# Our own VM is still up: another qemu-system now means the run was shared.
			if [ "$(pgrep -c qemu-system || true)" -gt 1 ]; then
				NOTES+=("another qemu-system was running at the end of the $name run")
			fi
			printf '%s\n' "$VM_OUT" | sed "s/^/  [$name] /" >&2
			while read -r _ key rest; do
				RAW+=("$impl $n $run $key $rest")
			done < <(printf '%s\n' "$VM_OUT" | grep '^RESULT ')
			vm_stop "$name"
		done
	done
done

# --- table ---------------------------------------------------------------------------------
# value IMPL N KEY FIELD: the median over runs of FIELD (1-based, after the key) of KEY.
value() {
	local r
	for r in "${RAW[@]}"; do echo "$r"; done |
		awk -v i="$1" -v n="$2" -v k="$3" -v f="$4" '$1 == i && $2 == n && $4 == k { v = $(4 + f); if (v != "NA" && v != "-") print v }' |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo
echo "keepalived-rs: $RS_BIN ($(stat -c %s "$RS_BIN") B, static musl); keepalived: /usr/sbin/keepalived $KA_VERSION (sum of its 3 processes)"
echo "VM: board/qemu-x86_64, TCG, ${VM_SMP} CPUs, ${VM_MEM} MiB; window ${SECONDS_WINDOW} s after ${SETTLE} s; runs: $RUNS (medians)"
echo
echo "| daemon | real servers | program ms | checks/s | check late ms (median / p99 / max) | CPU % | PSS KiB | advert late ms (median / p99 / max) | reload ms (min dests) |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "${SIZES[@]}"; do
	for impl in rs ka; do
		checks=$(value "$impl" "$n" checks 1)
		win=$(value "$impl" "$n" checks 5)
		cps=$(awk -v c="$checks" -v w="$win" 'BEGIN { if (c == "NA" || w == "NA" || w == 0) print "NA"; else printf "%.0f", c / (w / 1000) }')
		printf '| %s | %s | %s | %s | %s / %s / %s | %s | %s | %s / %s / %s | %s (%s) |\n' \
			"$(name_of "$impl")" "$n" "$(value "$impl" "$n" program_ms 1)" "$cps" \
			"$(value "$impl" "$n" checks 7)" "$(value "$impl" "$n" checks 8)" "$(value "$impl" "$n" checks 9)" \
			"$(value "$impl" "$n" cpu_pct 1)" "$(value "$impl" "$n" pss_kib 1)" \
			"$(value "$impl" "$n" adverts 3)" "$(value "$impl" "$n" adverts 4)" "$(value "$impl" "$n" adverts 5)" \
			"$(value "$impl" "$n" reload_ms 1)" "$(value "$impl" "$n" reload_ms 3)"
	done
	printf '| ratio rs/ka | %s | %s | | %s / %s / %s | %s | %s | | %s |\n' "$n" \
		"$(ratio "$(value rs "$n" program_ms 1)" "$(value ka "$n" program_ms 1)")" \
		"$(ratio "$(value rs "$n" checks 7)" "$(value ka "$n" checks 7)")" \
		"$(ratio "$(value rs "$n" checks 8)" "$(value ka "$n" checks 8)")" \
		"$(ratio "$(value rs "$n" checks 9)" "$(value ka "$n" checks 9)")" \
		"$(ratio "$(value rs "$n" cpu_pct 1)" "$(value ka "$n" cpu_pct 1)")" \
		"$(ratio "$(value rs "$n" pss_kib 1)" "$(value ka "$n" pss_kib 1)")" \
		"$(ratio "$(value rs "$n" reload_ms 1)" "$(value ka "$n" reload_ms 1)")"
done
echo
echo "raw (daemon N run key values):"
printf '  %s\n' "${RAW[@]}"
if [ "${#NOTES[@]}" -gt 0 ]; then
	echo
	printf 'note: %s\n' "${NOTES[@]}"
fi
