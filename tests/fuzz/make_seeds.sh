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
mkdir -p "$seeds"/{check_http,check_smtp,check_dns,netlink_ipvs,netlink_genl}

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

# The checkers' dialogues. check_http: selector, chunk size, then the server's bytes.
http() { printf '%b' "\\x$1\\x$2$3" >"$seeds/check_http/$4"; }
http 00 00 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' length
http 04 03 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n' chunked
http 08 07 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' continue
http 10 ff 'HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\nclose-delimited' notfound
http 1b 01 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' nocontent
http 00 10 'SSH-2.0-OpenSSH_9.2p1\r\n' garbage
# check_smtp: chunk size, then the server's bytes.
printf '\x00220 mx.example ESMTP\r\n250 mx.example\r\n221 bye\r\n' >"$seeds/check_smtp/plain"
printf '\x05220-mx.example\r\n220 ESMTP\r\n250-mx\r\n250 8BITMIME\r\n221 bye\r\n' >"$seeds/check_smtp/multiline"
printf '\x80220 mx\r\n554 no\r\n' >"$seeds/check_smtp/refused"
# check_dns: query id, query type, then the datagram: dnsmasq's answer to "A www.example"
# (192.0.2.80) and its REFUSED for "SOA .".
dns() { xxd -r -p <<<"$1" >"$seeds/check_dns/$2"; }
dns "beef0001""beef8580000100010000000003777777076578616d706c650000010001c00c000100010000000000040c000250" answer
dns "12340006""1234818500010000000000000000060001" refused
# netlink_ipvs: the family of the service (0 IPv4), then NEW_SERVICE and NEW_DEST as
# src/netlink/ipvs.rs's tests write them (192.0.2.100 tcp 80 rr; 198.51.100.1:8080 DR weight 3).
ipvs() { xxd -r -p <<<"$1" >"$seeds/netlink_ipvs/$2"; }
ipvs "00""68000000250005000700000000000000010100005400018006000100020000000600020006000000140003
00c0000264000000000000000000000000060004000050000007000600727200000c000700000000
00ffffffff0800080000000000080009 00ffffffff" new_service
ipvs "00""8c0000002500050009000000000000000501000030000180060001000200000006000200060000001400
0300c000026400000000000000000000000006000400005000004800028014000100c6336401000000
000000000000000000060002001f900000080003000300000008000400030000000800050000000000
080006000000000006000b0002000000" new_dest
# netlink_genl: the controller's answer for IPVS (id 0x25, version 1, maxattr 6).
xxd -r -p >"$seeds/netlink_genl/newfamily" <<<"4000000010000000010000003930000001020000090002004950
56530000000006000100250000000800030001000000080004000000000008000500060000 00"
