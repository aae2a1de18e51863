#!/bin/sh
# The VM kernel has what the host kernel lacks (dummy, netem, IPVS), and
# network namespaces with veth work: later scenarios build on these.
# shellcheck source=/dev/null # in the VM
. /usr/share/lab/lib.sh

# modprobe dummy already creates dummy0.
check "modprobe dummy; ip link add lab0 type dummy" \
	sh -c 'modprobe dummy && ip link add lab0 type dummy && ip link set lab0 up'
check "modprobe sch_netem" modprobe sch_netem
check "modprobe crc32c_generic (before IPVS, see LAB.md)" modprobe crc32c_generic
check "modprobe ip_vs_rr" modprobe ip_vs_rr
check "/proc/net/ip_vs exists" test -r /proc/net/ip_vs

# A veth pair with one end in a new network namespace. busybox ip has no
# "netns" command and ignores "peer name": the peer gets a vethN name, and
# "unshare -n" holds the namespace that "ip link set DEV netns PID" targets.
check "modprobe veth" modprobe veth
unshare -n sleep 60 &
nspid=$!
sleep 0.2
check "ip link add lab1 type veth" ip link add lab1 type veth
peer=none
for dev in /sys/class/net/veth*; do
	peer=${dev##*/}
	break
done
check "veth peer of lab1 ($peer) into the namespace" sh -c "
	ip link set $peer netns $nspid &&
	ip addr add 198.51.100.1/24 dev lab1 && ip link set lab1 up &&
	nsenter -t $nspid -n ip link set $peer name eth0 &&
	nsenter -t $nspid -n ip addr add 198.51.100.2/24 dev eth0 &&
	nsenter -t $nspid -n ip link set eth0 up"
wait_for 5 "ping through the veth pair" ping -c 1 -W 1 198.51.100.2
kill "$nspid"
ip link del lab1 2>/dev/null

finish
