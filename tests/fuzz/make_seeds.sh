#!/usr/bin/env bash
# Writes the seed corpora in tests/fuzz/seeds/TARGET/ from the project's fixtures: the
# keepalived 2.2.7 captures (tests/fixtures/*.hex), the netlink captures
# (src/netlink/fixtures/*.bin) and the configs (tests/config/*.conf, tests/fuzz/samples/).
# Run it again when a fixture changes; the result is committed.
set -euo pipefail

cd "$(dirname "$0")"
fixtures=../fixtures
seeds=seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{config,wire_ipv4,wire_vrrp,wire_arp,wire_ethernet,vrrp_check_in}
mkdir -p "$seeds"/{netlink_link_events,netlink_link,netlink_addr,netlink_ack}

# The instance index of each capture in fuzz_targets/vrrp_check_in.rs's config.
declare -A instance=([v2_pass_2vip]=0 [v2_noauth]=1 [v3_1s]=2 [v3_50ms]=3 [v3_unicast]=4
    [v2_longpass]=5)

frame() { tr -d ' \n' <"$1" | xxd -r -p; }

for hex in "$fixtures"/*.hex; do
    name=$(basename "$hex" .hex)
    scenario=${name%%.*}
    frame "$hex" >"$seeds/wire_ethernet/$name"
    datagram=$(frame "$hex" | tail -c +15 | xxd -p | tr -d '\n')
    if [[ $name == *.garp ]]; then
        xxd -r -p <<<"$datagram" >"$seeds/wire_arp/$name"
        continue
    fi
    xxd -r -p <<<"$datagram" >"$seeds/wire_ipv4/$name"
    # wire_vrrp: source and destination (IPv4 bytes 12..20), then the VRRP message.
    xxd -r -p <<<"${datagram:24:16}${datagram:40}" >"$seeds/wire_vrrp/$name"
    # vrrp_check_in: selector (instance, unicast source check on), then the datagram.
    printf -v selector '%02x' $((${instance[$scenario]} | 0x20))
    xxd -r -p <<<"$selector$datagram" >"$seeds/vrrp_check_in/$name"
    # The same from the known master with vrrp_skip_check_adv_addr.
    printf -v selector '%02x' $((${instance[$scenario]} | 0x38))
    xxd -r -p <<<"$selector$datagram" >"$seeds/vrrp_check_in/$name.skip"
done

for bin in ../../src/netlink/fixtures/*.bin; do
    for target in netlink_link_events netlink_link netlink_addr netlink_ack; do
        cp "$bin" "$seeds/$target/$(basename "$bin" .bin)"
    done
done

cp ../config/*.conf samples/* "$seeds/config/"
# Includes (tests/fuzz/include_root holds the files the config target may include) and the
# keepalived syntax of parameters and sequences.
cat >"$seeds/config/include.conf" <<'CONF'
global_defs {
    router_id fuzz
}
include instance.conf
include {instance,vips}.c?nf
include loop.conf
include /etc/keepalived/*.conf
CONF
cat >"$seeds/config/params.conf" <<'CONF'
$IF=eth0
$VIP=192.0.2.100/24
vrrp_instance VI_1 {
    interface $IF
    virtual_router_id 51
    virtual_ipaddress {
        ${VIP} dev ${IF}
    }
}
~SEQ(ID, 1, 2, 5) vrrp_instance VI_$ID { interface eth0 ; virtual_router_id $ID }
CONF
