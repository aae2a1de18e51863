#!/usr/bin/env bash
# Installs what the demo or the test suite needs on a fresh Debian machine (as root), and only
# what is missing:
#
#   tests/setup.sh demo   iproute2, ping (tests/demo.sh)
#   tests/setup.sh all    also keepalived (the reference peer), tcpdump, nftables, shellcheck,
#                         perl, python3-aiosmtpd and dnsmasq-base (the SMTP and DNS servers of the
#                         checker tests; dnsmasq-base is the program without the system service),
#                         qemu (system x86 and arm, user), busybox-static, kmod, cpio, file; rustfmt and
#                         clippy (tests/run.sh, .ci/run). tests/cross.sh and the VM build add
#                         their own toolchain targets and kernel package.
#
# KEEPALIVED_RS_NO_INSTALL=1 makes it a no-op (a machine set up by hand).
set -euo pipefail

[ "${KEEPALIVED_RS_NO_INSTALL:-}" = 1 ] && exit 0

case "${1:-all}" in
demo) pkgs=(iproute2 iputils-ping) ;;
all)
    pkgs=(iproute2 iputils-ping keepalived tcpdump nftables shellcheck perl
        qemu-system-x86 qemu-system-arm qemu-user-static busybox-static kmod cpio file python3-aiosmtpd
        dnsmasq-base)
    ;;
*)
    echo "usage: $0 [demo|all]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing packages ${missing[*]}: run as root to install them" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt run may hold the dpkg lock for a while: wait for it rather than fail.
    timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -qq
    timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

if [ "${1:-all}" = all ] && command -v rustup >/dev/null; then
    installed=$(rustup component list --installed 2>/dev/null || true)
    for c in rustfmt clippy; do
        grep -q "^$c" <<<"$installed" || timeout 600 rustup component add "$c"
    done
fi
