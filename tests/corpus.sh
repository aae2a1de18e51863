#!/usr/bin/env bash
# Differential config check over a corpus of real keepalived.conf files: each file is checked
# with `keepalived -t -f FILE` (the reference, keepalived 2.2.7) and `keepalived-rs -t -f FILE`,
# each in a fresh network namespace holding every interface the file names (a veth pair per
# name: the kernel here may lack the dummy module), each bounded by `timeout`. One line per
# file, then the counts:
#
#   both-accept      both accept it (each may warn: see verdict below)
#   both-refuse      both refuse it
#   rs-refuses       keepalived accepts (exit 0), keepalived-rs refuses (with keepalived's exit
#                    code and keepalived-rs's error)
#   rs-stricter      keepalived reports errors (exit 5 or 6, see verdict below) but may run
#                    the file, keepalived-rs refuses (same details)
#   rs-unknown       keepalived exits 0, keepalived-rs exits 5 on a word it does not know
#                    (with the first such word): a refusal by `-t`'s exit code too
#   rs-accepts       keepalived refuses, keepalived-rs accepts (with keepalived's first error)
#   rs-crash         keepalived-rs died of a signal, exited > 128 or panicked (exit 101)
#   rs-hang          keepalived-rs ran out of time
#   ka-crash/ka-hang the same for keepalived (reported, not a failure)
#
# Exits 1 if keepalived-rs crashed or hung on any file, 0 otherwise (refusals are reported, not
# failures: the corpus is the field's, not ours). Needs root (ip netns), ip and keepalived
# (tests/setup.sh all installs it). Not part of tests/run.sh: CI has no corpus.
#
#   tests/corpus.sh                 every file of $CORPUS_DIR
#   tests/corpus.sh FILE...         only these files
#
# Environment:
#   CORPUS_DIR=DIR                  the corpus (default /work/corpus): every regular file at its
#                                   top level but *.tsv, *.md and *.txt (SOURCES.tsv lists where
#                                   each came from). The files are others' work: keep them out of
#                                   the repository.
#   CORPUS_OUT=DIR                  where each file's outputs go (default: a new dir in $TMPDIR,
#                                   kept and named at the end)
#   CORPUS_TIMEOUT=S                seconds per program and file (default 10)
#   KEEPALIVED_RS_SKIP_CORPUS=1     print SKIPPED and pass
#   KEEPALIVED_RS_BIN=PATH          the program tested as keepalived-rs (default: the debug
#                                   build, built by `cargo build` when missing)
#   KEEPALIVED_BIN=PATH             the reference (default: keepalived on PATH, /usr/sbin/keepalived)
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "${KEEPALIVED_RS_SKIP_CORPUS:-}" = 1 ]; then
    echo "tests/corpus.sh: SKIPPED (KEEPALIVED_RS_SKIP_CORPUS=1)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "tests/corpus.sh: needs root (network namespaces)" >&2
    exit 2
fi

corpus_dir=${CORPUS_DIR:-/work/corpus}
limit=${CORPUS_TIMEOUT:-10}
ka_bin=${KEEPALIVED_BIN:-$(command -v keepalived || echo /usr/sbin/keepalived)}
if [ ! -x "$ka_bin" ]; then
    echo "tests/corpus.sh: no keepalived at $ka_bin (tests/setup.sh all installs it)" >&2
    exit 2
fi
if [ -n "${KEEPALIVED_RS_BIN:-}" ]; then
    rs_bin=$KEEPALIVED_RS_BIN
else
    rs_bin=${CARGO_TARGET_DIR:-target}/debug/keepalived-rs
    if [ ! -x "$rs_bin" ]; then
        echo "tests/corpus.sh: building $rs_bin"
        timeout 1800 cargo build --bin keepalived-rs
    fi
fi
rs_bin=$(realpath "$rs_bin")
ka_bin=$(realpath "$ka_bin")

files=()
if [ $# -gt 0 ]; then
    files=("$@")
else
    if [ ! -d "$corpus_dir" ]; then
        echo "tests/corpus.sh: no corpus at $corpus_dir (set CORPUS_DIR)" >&2
        exit 2
    fi
    while IFS= read -r -d '' f; do
        files+=("$f")
    done < <(find "$corpus_dir" -maxdepth 1 -type f ! -name '*.tsv' ! -name '*.md' \
        ! -name '*.txt' -print0 | sort -z)
fi
if [ "${#files[@]}" -eq 0 ]; then
    echo "tests/corpus.sh: no files" >&2
    exit 2
fi

out=${CORPUS_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/corpus.XXXXXX")}
mkdir -p "$out"

# Namespaces are kc<pid>x<n>: remove those of earlier runs whose <pid> is gone, and ours on exit.
ns_prefix="kc$$x"
current_ns=
delete_ns() {
    local ns=$1 p
    for p in $(ip netns pids "$ns" 2>/dev/null); do
        kill -9 "$p" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || true
}
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^kc[0-9]+x[0-9]+$' || true); do
    pid=${ns#kc}
    pid=${pid%%x*}
    kill -0 "$pid" 2>/dev/null || delete_ns "$ns"
done
cleanup() {
    [ -n "$current_ns" ] && delete_ns "$current_ns"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The interface names a file uses: `interface X`, `dev X`, `default_interface X`,
# `lvs_sync_daemon X`, `lvs_sync_daemon_interface X`, the names in `track_interface { }`
# blocks, and a `$NAME` whose definition `$NAME=X` is in the file. Names a kernel cannot hold
# (longer than 15 bytes, with '/', ':' or a space) are left out: both programs then see them
# missing.
interfaces() {
    awk '
    function add(n) {
        if (n ~ /^\$/ && (substr(n, 2) in defs)) n = defs[substr(n, 2)]
        gsub(/[{}"]/, "", n)
        if (n == "" || n == "lo" || length(n) > 15 || n ~ /[\/:$~@]/) return
        seen[n] = 1
    }
    { sub(/\r$/, ""); sub(/[#!].*/, "") }
    /^[ \t]*\$[A-Za-z_][A-Za-z0-9_]*[ \t]*=/ {
        d = $0; sub(/^[ \t]*\$/, "", d); k = d; sub(/[ \t]*=.*/, "", k)
        v = d; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t].*/, "", v); defs[k] = v
        next
    }
    {
        if (inblock) {
            for (i = 1; i <= NF; i++) {
                if ($i ~ /}/) { t = $i; sub(/}.*/, "", t); if (t != "" && i == 1) add(t); inblock = 0; break }
                if (i == 1 && $i != "{") add($i)
            }
            if (inblock && $1 == "{" && NF > 1 && $2 !~ /}/) add($2)
        }
        for (i = 1; i <= NF; i++) {
            w = $i
            if ((w == "interface" || w == "dev" || w == "default_interface" ||
                 w == "lvs_sync_daemon" || w == "lvs_sync_daemon_interface") && i < NF)
                add($(i + 1))
            if (w == "track_interface" || w == "interfaces") {
                rest = ""
                for (j = i + 1; j <= NF; j++) rest = rest " " $j
                if (rest ~ /}/) {
                    sub(/}.*/, "", rest); sub(/{/, "", rest)
                    split(rest, a, " "); if (a[1] != "") add(a[1])
                } else {
                    inblock = 1
                    sub(/{/, "", rest); split(rest, a, " "); if (a[1] != "") add(a[1])
                }
                break
            }
        }
    }
    END { for (n in seen) print n }
    ' "$1" | sort
}

# Runs "$@" in namespace $1 with the time limit; writes its output to $2 and its exit code to $3.
run_in() {
    local ns=$1 log=$2 rcfile=$3 rc=0
    shift 3
    # (The braces keep bash's "Aborted" line for a program killed by a signal out of the table.)
    { (cd "$work" && timeout -k 2 "$limit" ip netns exec "$ns" "$@") >"$log" 2>&1 </dev/null; } 2>/dev/null || rc=$?
    echo "$rc" >"$rcfile"
}

# accept | warn | refuse | crash | hang, from a program ($1: ka or rs), its exit code and its
# output (a Rust panic exits 101). keepalived -t exits 0 on a clean file; on anything it reports
# it exits with the code of the *least* severe kind it met (lib/parser.c keeps the highest
# config_err_t): 6 if script security was among them, 5 for errors it still runs with (an
# unknown word, a stray brace, a bad value it skips or replaces by its default), 4 (or 2) only
# when all it met stops it. So 5 and 6 are `warn`: reported, maybe runnable. keepalived-rs exits 5 both when a word it
# does not know was ignored and when it refuses the file; a refusal stops it, so its error is
# the last line: a last line that reads as one of its warnings (ignored, cleared, using ...,
# truncated, skipping) makes an exit 5 `warn`.
verdict() {
    local prog=$1 rc=$2 log=$3
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo hang
    elif [ "$rc" -gt 128 ] || [ "$rc" -eq 101 ] || grep -q 'panicked at' "$log"; then
        echo crash
    elif [ "$rc" -eq 0 ]; then
        echo accept
    elif [ "$prog" = ka ] && { [ "$rc" -eq 5 ] || [ "$rc" -eq 6 ]; }; then
        echo warn
    elif [ "$prog" = rs ] && [ "$rc" -eq 5 ] && tail -n1 "$log" | grep -qE "$rs_warning"; then
        echo warn
    elif [ "$prog" = rs ] && [ "$rc" -eq 6 ]; then
        # Script security, as keepalived's 6: reported, and the daemon runs.
        echo warn
    else
        echo refuse
    fi
}
rs_warning='(ignored|ignored \(in .*\)|ignoring|cleared|using [^ ]+|using multicast|link-local|truncated to 8 characters|is very large|skipping|excluded|address owner|is sensible|rounded to .*|removing|removing it|not found/accessible|not enabled\.|There are insecure scripts\.|\(os error [0-9]+\)|disabling\.|what you want|SMTP alerts are off|use retry|keeps its weight)$'

# The first line of an output that reads as an error, else its first line.
first_error() {
    local line
    line=$(grep -m1 -iE 'error|invalid|unknown|expected|not |missing|bad |cannot|can.t|unsupported|out of range|too ' "$1" ||
        head -n1 "$1")
    printf '%s' "${line:0:200}"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/corpus-work.XXXXXX")
n=0
declare -A count=()
declare -a rows=()
failed=0
for f in "${files[@]}"; do
    n=$((n + 1))
    name=$(basename "$f")
    conf=$(realpath "$f")
    results=()
    for prog in ka rs; do
        ns="${ns_prefix}$n$prog"
        current_ns=$ns
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        k=0
        while IFS= read -r ifname; do
            [ -n "$ifname" ] || continue
            k=$((k + 1))
            ip -n "$ns" link add "$ifname" type veth peer name "kcpeer$k" 2>/dev/null || true
            ip -n "$ns" link set "$ifname" up 2>/dev/null || true
        done < <(interfaces "$conf")
        if [ "$prog" = ka ]; then
            run_in "$ns" "$out/$name.ka.log" "$out/$name.ka.rc" "$ka_bin" -t -f "$conf"
        else
            run_in "$ns" "$out/$name.rs.log" "$out/$name.rs.rc" "$rs_bin" -t -f "$conf"
        fi
        delete_ns "$ns"
        current_ns=
        results+=("$(verdict "$prog" "$(cat "$out/$name.$prog.rc")" "$out/$name.$prog.log")")
    done
    ka=${results[0]} rs=${results[1]}
    detail=
    case "$rs" in
    crash | hang)
        class="rs-$rs"
        failed=1
        detail="exit $(cat "$out/$name.rs.rc"): $(first_error "$out/$name.rs.log")"
        ;;
    *)
        case "$ka:$rs" in
        crash:* | hang:*) class="ka-$ka" ;;
        accept:warn)
            class="rs-unknown"
            detail=$(grep -m1 'Unknown keyword' "$out/$name.rs.log" || tail -n1 "$out/$name.rs.log")
            ;;
        accept:refuse | warn:refuse)
            class="rs-refuses"
            [ "$ka" = warn ] && class="rs-stricter"
            detail="ka $(cat "$out/$name.ka.rc") | $(tail -n1 "$out/$name.rs.log")"
            ;;
        accept:* | warn:*) class="both-accept" ;;
        refuse:refuse) class="both-refuse" ;;
        refuse:*)
            class="rs-accepts"
            detail=$(first_error "$out/$name.ka.log")
            ;;
        esac
        ;;
    esac
    # keepalived-rs's console time stamp and the file's path say nothing here.
    detail=$(sed -E 's/[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} //; s#[^ (]*/'"$name"'#'"$name"'#g' <<<"$detail")
    detail=${detail:0:200}
    count[$class]=$((${count[$class]:-0} + 1))
    rows+=("$(printf '%-12s %s%s' "$class" "$name" "${detail:+  | $detail}")")
done
rm -rf "$work"

printf '%s\n' "${rows[@]}" | sort
echo
echo "corpus: ${#files[@]} files ($corpus_dir), outputs in $out"
for class in both-accept both-refuse rs-refuses rs-unknown rs-stricter rs-accepts rs-crash rs-hang ka-crash ka-hang; do
    printf '  %-12s %d\n' "$class" "${count[$class]:-0}"
done
if [ "$failed" -ne 0 ]; then
    echo "tests/corpus.sh: keepalived-rs crashed or hung (rs-crash, rs-hang above)"
    exit 1
fi
