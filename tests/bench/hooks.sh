#!/usr/bin/env bash
# Reload and hook benchmark: keepalived-rs and keepalived in the same run, each daemon in turn on
# the same kind of lab (a fresh one per daemon and measurement), one markdown table at the end.
#
# Lab (tests/lab.sh): netns <P>sw holds bridge br0; <P>n1 (192.0.2.1, the master) and <P>n2
# (192.0.2.2, the backup) hang off it. VRRPv3. The peer's view of the master's adverts comes from
# tcpdump in n2 filtered on source 192.0.2.1 (written to a pcap, read back with -tt).
#
#  reload   255 instances (VRIDs 1..255 on eth0, advert_int 0.1, one /32 VIP each from
#           198.51.100.0/24 and 203.0.113.0/24), master priority 150, backup 100. BENCH_RUNS
#           times, BENCH_RELOAD_SPACING s apart: the master's file changes VRID 128's priority
#           (150 -> 140 -> 150 ...) and the master gets SIGHUP. Per run:
#             apply (log): SIGHUP to the end of the reload in the master's log: keepalived-rs's
#               "Reload done"; keepalived's VRRP child logs no end of reload (its parent's
#               "Reload complete" only says the parent re-read the file), so keepalived runs with
#               -D and the end is the child's "VRRP sockpool: ..." line, which its dispatcher
#               logs once the instances are back (after every "(VI_n) setting VIPs.").
#             apply (wire): SIGHUP to the first advert of VRID 128 with the new priority, seen by
#               the peer.
#             gap: the longest interval between two consecutive adverts of one VRID, seen by the
#               peer, over all VRIDs, counting intervals that end after the SIGHUP and start
#               before SIGHUP + BENCH_RELOAD_WINDOW s (100 ms is on time).
#             transitions: "Entering ... STATE" lines in both routers' logs in that window.
#  scripts  1 instance, advert_int 0.1, master priority 200 tracking 50 vrrp_scripts (interval 1,
#           timeout 2, weight -2): 45 run a shell script that exits 0, 5 a shell script that runs
#           `sleep 30` and is killed at its timeout. For BENCH_SECONDS s the peer captures the
#           master's adverts; lateness = interval between consecutive adverts - 100 ms: median,
#           p99, max. Transitions as above, over the capture.
#  memory   16 instances, advert_int 1, master 150, backup 100. PSS of the master (smaps_rollup;
#           keepalived: parent + VRRP child) after start, then BENCH_RELOADS SIGHUPs of the
#           unchanged file, each sent once the previous one's end-of-reload line is logged (and at
#           least 20 ms after it), then PSS again (and once after the first tenth of the reloads,
#           to tell a one-time high-water mark from steady growth). Bounded: BENCH_RELOAD_BUDGET s
#           per daemon and 5 s per reload; the table says how many reloads were done.
#
# Usage: tests/bench/hooks.sh [reload|scripts|memory]...   (default: all three)
# Environment:
#   BENCH_RUNS=5               reloads measured in "reload" (median and max are printed)
#   BENCH_SECONDS=20           capture length in "scripts"
#   BENCH_RELOADS=1000         SIGHUPs in "memory"
#   BENCH_RELOAD_BUDGET=300    seconds each daemon gets for them
#   BENCH_RELOAD_SPACING=3     seconds between two measured reloads
#   BENCH_RELOAD_WINDOW=2      seconds after a SIGHUP in which gaps and transitions count
#   KEEPALIVED_RS_BIN=PATH     the keepalived-rs binary (default: cargo build --release)
#   KEEPALIVED_BIN=PATH        keepalived (default: from PATH)
#   BENCH_KEEP=1               keep the work directory (configs, logs, captures)
# Needs root, ip, tcpdump, keepalived, perl (Time::HiRes), timeout, awk (tests/setup.sh all
# installs them). Everything runs in network namespaces kh<pid>{sw,n1,n2}, removed on exit;
# daemons run under `timeout`.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=tests/lab.sh
. tests/lab.sh

RUNS=${BENCH_RUNS:-5}
CAPTURE_SECONDS=${BENCH_SECONDS:-20}
RELOADS=${BENCH_RELOADS:-1000}
BUDGET=${BENCH_RELOAD_BUDGET:-300}
SPACING=${BENCH_RELOAD_SPACING:-3}
WINDOW=${BENCH_RELOAD_WINDOW:-2}
P="kh$$"
CHANGED_VRID=128

die() {
    echo "hooks.sh: $*" >&2
    exit 1
}

MODES=()
for m in "$@"; do
    case "$m" in
    reload | scripts | memory) MODES+=("$m") ;;
    *)
        echo "usage: $0 [reload|scripts|memory]..." >&2
        exit 2
        ;;
    esac
done
[ "${#MODES[@]}" -gt 0 ] || MODES=(reload scripts memory)

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, tcpdump)"
for t in ip tcpdump timeout awk sort seq perl; do
    command -v "$t" >/dev/null || die "$t is not installed (tests/setup.sh all installs it)"
done
perl -MTime::HiRes -e 1 2>/dev/null || die "perl's Time::HiRes is missing (tests/setup.sh all installs perl)"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"
for v in "$RUNS" "$CAPTURE_SECONDS" "$RELOADS" "$BUDGET" "$SPACING" "$WINDOW"; do
    [[ $v =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_* values must be whole numbers 1..99999 (got '$v')"
done
[ "$WINDOW" -lt "$SPACING" ] || die "BENCH_RELOAD_WINDOW must be less than BENCH_RELOAD_SPACING"
KA_BIN=${KEEPALIVED_BIN:-$(command -v keepalived || true)}
if [ -z "$KA_BIN" ] || [ ! -x "$KA_BIN" ]; then
    die "keepalived is not installed (tests/setup.sh all installs it)"
fi
KA_VERSION=$("$KA_BIN" --version 2>&1 | awk 'NR == 1 { print $2 }')
if [ -z "${KEEPALIVED_RS_BIN:-}" ]; then
    command -v cargo >/dev/null || die "cargo is not installed (or set KEEPALIVED_RS_BIN)"
    echo "building keepalived-rs (release)..." >&2
    cargo build --release --quiet || die "cargo build --release failed"
    RS_BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/keepalived-rs
else
    RS_BIN=$KEEPALIVED_RS_BIN
fi
[ -x "$RS_BIN" ] || die "no keepalived-rs binary at $RS_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hooks-bench.XXXXXX")
chmod 755 "$WORK" # the scripts live here; keepalived checks the path's permissions
ROWS=()

cleanup() {
    # shellcheck disable=SC2119 # no PIDs: lab_down kills what runs in the namespaces
    lab_down
    if [ "${BENCH_KEEP:-}" = 1 ]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "hooks.sh: $*" >&2; }

# Prefixes each line of stdin with the wall clock when it was read (seconds.micro). perl reads
# the pipe in blocks; bash's `read` takes a byte per syscall and fell 6 ms behind keepalived's
# 255-line bursts.
stamp() {
    perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.6f %s", time, $_'
}

# VIP of VRID k: 198.51.100.k for 1..254, 203.0.113.1 for 255.
vip() {
    if [ "$1" -le 254 ]; then echo "198.51.100.$1"; else echo "203.0.113.$(($1 - 254))"; fi
}

# gen_conf N PRIORITY ADVERT_INT [VRID PRIORITY]: N instances, VRIDs 1..N, all BACKUP at start;
# the optional pair gives one VRID another priority.
gen_conf() {
    local n=$1 prio=$2 adv=$3 k p
    printf 'global_defs {\n    router_id r%s\n    vrrp_version 3\n}\n' "$prio"
    for ((k = 1; k <= n; k++)); do
        p=$prio
        [ "$k" = "${4:-}" ] && p=$5
        printf 'vrrp_instance VI_%d {\n    state BACKUP\n    interface eth0\n' "$k"
        printf '    virtual_router_id %d\n    priority %d\n    advert_int %s\n' "$k" "$p" "$adv"
        printf '    virtual_ipaddress {\n        %s/32\n    }\n}\n' "$(vip "$k")"
    done
}

# start_daemon IMPL NODE DIR LIMIT: runs the daemon of IMPL (rs|ka) in netns <P>NODE under
# `timeout LIMIT`, config DIR/NODE.conf, log DIR/NODE.log (each line stamped), pid files in DIR.
start_daemon() {
    local impl=$1 node=$2 dir=$3 limit=$4 bin flags=(-n -l -G -P)
    bin=$RS_BIN
    if [ "$impl" = ka ]; then
        bin=$KA_BIN
        flags+=(-D)
    fi
    mkdir -p "$dir/$node.tmp"
    rm -f "$dir/$node.pid" "$dir/$node.vrrp.pid"
    ip netns exec "$P$node" env TMPDIR="$dir/$node.tmp" timeout -k 5 "$limit" "$bin" "${flags[@]}" \
        -f "$dir/$node.conf" -p "$dir/$node.pid" -r "$dir/$node.vrrp.pid" -c "$dir/$node.check.pid" \
        </dev/null 2>&1 | stamp >"$dir/$node.log" &
}

# pid_of DIR NODE: the daemon's main pid (waits up to 10 s for its pid file).
pid_of() {
    local f="$1/$2.pid"
    for _ in $(seq 200); do
        if [ -s "$f" ]; then
            cat "$f"
            return 0
        fi
        sleep 0.05
    done
    die "no pid file $f after 10 s; log: $(tail -n 3 "$1/$2.log" 2>/dev/null)"
}

vips_on() { ip -n "$P$1" -4 -o addr show dev eth0 | grep -c '/32 ' || true; }

# wait_steady N SECONDS: until n1 holds the N VIPs and n2 none (bounded).
wait_steady() {
    local n=$1
    for _ in $(seq $(($2 * 20))); do
        [ "$(vips_on n1)" = "$n" ] && [ "$(vips_on n2)" = 0 ] && return 0
        sleep 0.05
    done
    return 1
}

# start_capture DIR: tcpdump in n2 of the master's VRRP packets -> DIR/peer.pcap; sets CAP_PID.
start_capture() {
    local dir=$1
    ip netns exec "${P}n2" timeout -k 2 900 tcpdump -i eth0 -n -p -s 96 -B 16384 -U \
        -w "$dir/peer.pcap" 'ip proto 112 and src host 192.0.2.1' 2>"$dir/tcpdump.err" &
    CAP_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$dir/tcpdump.err" 2>/dev/null && return 0
        sleep 0.05
    done
    die "tcpdump did not start: $(cat "$dir/tcpdump.err")"
}

# stop_capture DIR: ends tcpdump, writes DIR/peer.txt ("TIME VRID PRIO" per advert), returns the
# kernel's drop count on stdout.
stop_capture() {
    local dir=$1
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    tcpdump -tt -n -r "$dir/peer.pcap" 2>/dev/null |
        awk '/VRRPv3, Advertisement/ {
                v = ""; p = ""
                for (i = 1; i < NF; i++) {
                    if ($i == "vrid") v = $(i + 1) + 0
                    if ($i == "prio") p = $(i + 1) + 0
                }
                print $1, v, p
            }' >"$dir/peer.txt"
    awk '/dropped by kernel/ { print $1; found = 1 } END { if (!found) print "?" }' "$dir/tcpdump.err"
}

# stop_daemons DIR: SIGTERM both daemons (pid files), wait up to 5 s, then lab_down's kill.
stop_daemons() {
    local dir=$1 p pids=()
    for p in "$dir/n1.pid" "$dir/n2.pid"; do
        [ -s "$p" ] && pids+=("$(cat "$p")")
    done
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.05
    done
}

# transitions DIR T0 T1: "Entering ... STATE" lines stamped in [T0, T1] in both logs.
transitions() {
    cat "$1/n1.log" "$1/n2.log" | awk -v a="$2" -v b="$3" \
        '/Entering .* STATE/ && $1 >= a && $1 <= b { n++ } END { print n + 0 }'
}

# stats: median and max (and p99 with "p99") of numbers on stdin, formatted with %.1f.
stats() {
    sort -g | awk -v want="${1:-}" '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "- -"; exit }
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            i = int(0.99 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
            if (want == "p99") printf "%.1f %.1f %.1f\n", med, v[i], v[NR]
            else printf "%.1f %.1f\n", med, v[NR]
        }'
}

fresh_lab() {
    # shellcheck disable=SC2119 # no PIDs: lab_down kills what runs in the namespaces
    lab_down
    lab_up "$P" n1:1 n2:2
}

name_of() { if [ "$1" = rs ]; then echo keepalived-rs; else echo "keepalived $KA_VERSION"; fi; }

# ------------------------------------------------------------------ reload, 255 instances

# The end of a reload in the master's log, stamped after T: prints the stamp or nothing.
reload_end_after() {
    local impl=$1 log=$2 t=$3 pat="Reload done"
    [ "$impl" = ka ] && pat="VRRP sockpool:"
    awk -v t="$t" -v pat="$pat" 'index($0, pat) && $1 > t { print $1; exit }' "$log"
}

bench_reload() {
    local impl=$1 dir="$WORK/reload-$1" n=255 i t drops rows=()
    local limit=$((60 + RUNS * SPACING + 60))
    log "reload: $(name_of "$impl"), $n instances at advert_int 0.1, $RUNS reloads"
    mkdir -p "$dir"
    fresh_lab
    gen_conf "$n" 150 0.1 >"$dir/n1.conf"
    gen_conf "$n" 100 0.1 >"$dir/n2.conf"
    start_daemon "$impl" n1 "$dir" "$limit"
    start_daemon "$impl" n2 "$dir" "$limit"
    local mpid
    mpid=$(pid_of "$dir" n1)
    pid_of "$dir" n2 >/dev/null
    wait_steady "$n" 30 || die "reload/$impl: not in steady state after 30 s ($(vips_on n1) VIPs on n1, $(vips_on n2) on n2)"
    sleep 2
    start_capture "$dir"
    sleep 1
    for i in $(seq "$RUNS"); do
        local prio=140
        [ $((i % 2)) = 0 ] && prio=150
        gen_conf "$n" 150 0.1 "$CHANGED_VRID" "$prio" >"$dir/n1.conf"
        t=$EPOCHREALTIME
        kill -HUP "$mpid"
        echo "$i $t $prio" >>"$dir/hups"
        sleep "$SPACING"
    done
    drops=$(stop_capture "$dir")
    stop_daemons "$dir"
    local logms wirems gapms trans
    while read -r i t prio; do
        local tend end
        tend=$(awk -v t="$t" -v w="$WINDOW" 'BEGIN { printf "%.6f", t + w }')
        end=$(reload_end_after "$impl" "$dir/n1.log" "$t")
        if [ -n "$end" ]; then
            logms=$(awk -v a="$t" -v b="$end" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
        else
            logms=NA
        fi
        wirems=$(awk -v t="$t" -v v="$CHANGED_VRID" -v p="$prio" \
            '$1 > t && $2 == v && $3 == p { printf "%.1f", ($1 - t) * 1000; f = 1; exit }
             END { if (!f) print "NA" }' "$dir/peer.txt")
        gapms=$(awk -v t="$t" -v e="$tend" '{
                if (($2 in last) && $1 > t && last[$2] < e) {
                    g = $1 - last[$2]; if (g > max) max = g
                }
                last[$2] = $1
            } END { printf "%.1f", max * 1000 }' "$dir/peer.txt")
        trans=$(transitions "$dir" "$t" "$tend")
        log "  reload $i: apply $logms ms (log), $wirems ms (wire), longest advert gap $gapms ms, $trans transitions"
        rows+=("$logms $wirems $gapms $trans")
    done <"$dir/hups"
    local lm wm gm tr
    lm=$(printf '%s\n' "${rows[@]}" | awk '$1 != "NA" { print $1 }' | stats)
    wm=$(printf '%s\n' "${rows[@]}" | awk '$2 != "NA" { print $2 }' | stats)
    gm=$(printf '%s\n' "${rows[@]}" | awk '{ print $3 }' | stats)
    tr=$(printf '%s\n' "${rows[@]}" | awk '{ s += $4 } END { print s + 0 }')
    local miss
    miss=$(printf '%s\n' "${rows[@]}" | awk '$1 == "NA" || $2 == "NA" { n++ } END { print n + 0 }')
    local note="VRIDs 1..255 at advert_int 0.1; $RUNS reloads, median / max; capture drops: $drops"
    [ "$miss" -gt 0 ] && note="$note; $miss reload(s) without an end line or new-priority advert"
    # shellcheck disable=SC2086 # word splitting wanted: "median max"
    ROWS+=("$(printf '| reload, 255 instances | %s | %s | %s | gap %s | %s | | %s |' \
        "$(name_of "$impl")" "$(fmt_mm $lm)" "$(fmt_mm $wm)" "$(fmt_mm $gm)" "$tr" "$note")")
}

fmt_mm() { echo "$1 / $2"; }

# ------------------------------------------------------------------ 50 vrrp_scripts

bench_scripts() {
    local impl=$1 dir="$WORK/scripts-$1" k
    local limit=$((CAPTURE_SECONDS + 120))
    log "scripts: $(name_of "$impl"), 50 vrrp_scripts (5 hanging), ${CAPTURE_SECONDS}s capture"
    mkdir -p "$dir"
    chmod 755 "$dir"
    printf '#!/bin/sh\nexit 0\n' >"$dir/ok.sh"
    printf '#!/bin/sh\nsleep 30\n' >"$dir/hang.sh"
    chmod 755 "$dir/ok.sh" "$dir/hang.sh"
    fresh_lab
    {
        printf 'global_defs {\n    router_id m\n    vrrp_version 3\n}\n'
        for k in $(seq 50); do
            local s=ok
            [ "$k" -le 5 ] && s=hang
            printf 'vrrp_script chk_%d {\n    script "%s/%s.sh"\n' "$k" "$dir" "$s"
            printf '    interval 1\n    timeout 2\n    weight -2\n}\n'
        done
        printf 'vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n'
        printf '    virtual_router_id 1\n    priority 200\n    advert_int 0.1\n'
        printf '    virtual_ipaddress {\n        198.51.100.1/32\n    }\n    track_script {\n'
        for k in $(seq 50); do printf '        chk_%d\n' "$k"; done
        printf '    }\n}\n'
    } >"$dir/n1.conf"
    gen_conf 1 100 0.1 >"$dir/n2.conf"
    start_daemon "$impl" n1 "$dir" "$limit"
    start_daemon "$impl" n2 "$dir" "$limit"
    pid_of "$dir" n1 >/dev/null
    pid_of "$dir" n2 >/dev/null
    wait_steady 1 20 || die "scripts/$impl: no single master after 20 s ($(vips_on n1) VIPs on n1, $(vips_on n2) on n2); log: $(tail -n 3 "$dir/n1.log")"
    local ts
    ts=$EPOCHREALTIME
    # Let the hanging scripts reach their first timeouts.
    sleep 4
    start_capture "$dir"
    local t1 drops
    sleep "$CAPTURE_SECONDS"
    t1=$EPOCHREALTIME
    drops=$(stop_capture "$dir")
    stop_daemons "$dir"
    local trans lat adverts
    trans=$(transitions "$dir" "$ts" "$t1")
    adverts=$(awk '$2 == 1 { n++ } END { print n + 0 }' "$dir/peer.txt")
    lat=$(awk '$2 == 1 { if (prev != "") printf "%.3f\n", ($1 - prev - 0.1) * 1000; prev = $1 }' \
        "$dir/peer.txt" | stats p99)
    local med p99 max
    read -r med p99 max <<<"$lat"
    log "  $adverts adverts; lateness median $med ms, p99 $p99, max $max; $trans transitions"
    ROWS+=("$(printf '| 50 vrrp_scripts, 5 hanging | %s | | | late %s / %s / %s | %s | | advert_int 0.1, %s s: %s adverts; lateness median / p99 / max; capture drops: %s |' \
        "$(name_of "$impl")" "$med" "$p99" "$max" "$trans" "$CAPTURE_SECONDS" "$adverts" "$drops")")
}

# ------------------------------------------------------------------ memory over reloads

# pss_of DIR: PSS (KiB) of the master: keepalived-rs's process, keepalived's parent + VRRP child.
pss_of() {
    local dir=$1 f p total=0 v
    for f in "$dir/n1.pid" "$dir/n1.vrrp.pid"; do
        [ -s "$f" ] || continue
        p=$(cat "$f")
        [ -r "/proc/$p/smaps_rollup" ] || continue
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")
        total=$((total + v))
    done
    echo "$total"
}

bench_memory() {
    local impl=$1 dir="$WORK/memory-$1" n=16
    local limit=$((BUDGET + 120)) pat="Reload done"
    [ "$impl" = ka ] && pat="VRRP sockpool:"
    log "memory: $(name_of "$impl"), $n instances, up to $RELOADS reloads in ${BUDGET}s"
    mkdir -p "$dir"
    fresh_lab
    gen_conf "$n" 150 1 >"$dir/n1.conf"
    gen_conf "$n" 100 1 >"$dir/n2.conf"
    start_daemon "$impl" n1 "$dir" "$limit"
    start_daemon "$impl" n2 "$dir" "$limit"
    local mpid
    mpid=$(pid_of "$dir" n1)
    pid_of "$dir" n2 >/dev/null
    if [ "$impl" = ka ]; then
        for _ in $(seq 200); do [ -s "$dir/n1.vrrp.pid" ] && break; sleep 0.05; done
    fi
    wait_steady "$n" 30 || die "memory/$impl: not in steady state after 30 s"
    sleep 2
    local before after mid=NA tenth=$(((RELOADS + 9) / 10)) done_n=0 failed="" t_start t_end base
    before=$(pss_of "$dir")
    base=$(grep -c "$pat" "$dir/n1.log" || true)
    t_start=$EPOCHREALTIME
    local deadline=$((${t_start%.*} + BUDGET)) i
    for i in $(seq "$RELOADS"); do
        if [ "${EPOCHREALTIME%.*}" -ge "$deadline" ]; then
            failed="budget of ${BUDGET}s spent"
            break
        fi
        kill -HUP "$mpid" || {
            failed="daemon gone"
            break
        }
        local ok=0
        for _ in $(seq 500); do
            if [ "$(grep -c "$pat" "$dir/n1.log" || true)" -ge $((base + i)) ]; then
                ok=1
                break
            fi
            sleep 0.01
        done
        if [ "$ok" = 0 ]; then
            failed="reload $i did not finish in 5 s"
            break
        fi
        done_n=$i
        [ "$i" = "$tenth" ] && mid=$(pss_of "$dir")
        sleep 0.02
    done
    t_end=$EPOCHREALTIME
    sleep 1
    after=$(pss_of "$dir")
    local steady=yes
    wait_steady "$n" 1 || steady=no
    local trans
    trans=$(transitions "$dir" "$t_start" "$EPOCHREALTIME")
    stop_daemons "$dir"
    local secs growth note
    secs=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
    growth=$((after - before))
    note="$done_n of $RELOADS reloads in $secs s"
    [ -n "$failed" ] && note="$note (stopped: $failed)"
    note="$note; PSS after reload $tenth: $mid KiB; VIPs still on the master alone: $steady"
    log "  PSS before $before KiB, after $after KiB, growth $growth KiB; $note"
    ROWS+=("$(printf '| memory, 16 instances, %s reloads | %s | | | | %s | %s -> %s (%+d) | %s |' \
        "$done_n" "$(name_of "$impl")" "$trans" "$before" "$after" "$growth" "$note")")
}

# ------------------------------------------------------------------ run and print

for m in "${MODES[@]}"; do
    for impl in rs ka; do
        "bench_$m" "$impl"
    done
done
# shellcheck disable=SC2119 # no PIDs: lab_down kills what runs in the namespaces
lab_down

echo
echo "keepalived-rs: $RS_BIN"
echo "keepalived:    $KA_BIN ($KA_VERSION)"
echo
echo "| measurement | daemon | apply, log (ms) | apply, wire (ms) | advert timing (ms) | transitions | master PSS (KiB) | notes |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
