#!/bin/sh
# IPVS programmed through keepalived-rs's io::ipvs against the VM's real kernel:
# tests/ipvs_kernel.rs, built by build.sh as a static test binary
# (/usr/lib/lab/ipvs_kernel). Its ignored tests are the ones that need IPVS;
# they share the kernel's table, so they run one at a time. Then one test
# leaves four services behind and /proc/net/ip_vs must show them as ipvsadm
# would.
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh

T=/usr/lib/lab/ipvs_kernel
check "test binary $T is in the image (build.sh LAB_TESTS)" test -x "$T"
check "modprobe crc32c_generic (before IPVS, see LAB.md)" modprobe crc32c_generic
for m in ip_vs_rr ip_vs_wrr ip_vs_wlc ip_vs_sh; do
	check "modprobe $m" modprobe "$m"
done
check "/proc/net/ip_vs exists" test -r /proc/net/ip_vs

out=/tmp/ipvs_kernel.out
if "$T" --ignored --test-threads=1 --nocapture --skip leave_lab_table_for_proc >"$out" 2>&1; then
	pass "ipvs_kernel tests (--ignored)"
else
	fail "ipvs_kernel tests (--ignored)"
fi
grep -E '^test |IPVS|test result|panicked|left|right' "$out" | sed 's/^/     /'
check "the 10,000-destination timing was printed" grep -q 'IPVS 10000 dests, 100 services' "$out"

if "$T" --ignored --exact leave_lab_table_for_proc >"$out" 2>&1; then
	pass "lab table left in the kernel"
else
	fail "lab table left in the kernel"
	sed 's/^/     /' "$out"
fi
sed 's/^/     /' /proc/net/ip_vs
# Addresses in hex as the kernel prints them: 192.0.2.100 = C0000264, 198.51.100.N = C63364NN.
proc_has() { grep -Eq -e "$1" /proc/net/ip_vs; }
check "/proc: TCP 192.0.2.100:80 wlc" proc_has '^TCP  C0000264:0050 wlc'
check "/proc: NAT real server 198.51.100.1:8080 weight 1" proc_has '-> C6336401:1F90 +Masq +1 '
check "/proc: DR real server 198.51.100.2:80 weight 2" proc_has '-> C6336402:0050 +Route +2 '
check "/proc: TUN real server 198.51.100.3:80 weight 3" proc_has '-> C6336403:0050 +Tunnel +3 '
check "/proc: inhibited real server weight 0" proc_has '-> C6336404:1F90 +Masq +0 '
check "/proc: fwmark 7 rr" proc_has '^FWM  00000007 rr'
# The timeout is printed in jiffies (300 s x HZ), the mask in hex.
check "/proc: UDP 192.0.2.100:53 persistent, mask 255.255.255.0" proc_has '^UDP  C0000264:0035 rr +persistent [0-9]+ FFFFFF00'
check "/proc: IPv6 [2001:db8::100]:443 sh" proc_has '^TCP  \[2001:0db8:0000:0000:0000:0000:0000:0100\]:01BB sh'

finish
