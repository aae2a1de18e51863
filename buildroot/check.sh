#!/bin/sh
# Lints the Buildroot and OpenWrt packaging of keepalived-rs.
#
#   BUILDROOT_DIR=/path/to/buildroot buildroot/check.sh
#
# - Buildroot's utils/check-package -b on every file of this br2-external
#   tree, when BUILDROOT_DIR names a Buildroot source tree (check-package
#   needs python3, flake8, python-magic and shellcheck);
# - shellcheck on the init scripts (Buildroot S45keepalived-rs, OpenWrt
#   procd script) and on the test scripts, always;
# - the OpenWrt procd script test with procd stubbed (plain sh, no root).
# With RUN_INIT_TESTS=1 it also runs the init scripts against the daemon
# (root, busybox and target/release/keepalived-rs needed).
#
# Exits non-zero on any warning and when a check could not run.

set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
status=0

if [ -n "${BUILDROOT_DIR:-}" ]; then
	if [ -x "$BUILDROOT_DIR/utils/check-package" ]; then
		echo "== check-package -b (Buildroot: $BUILDROOT_DIR)"
		(cd "$here" && find . -type f -exec \
			"$BUILDROOT_DIR/utils/check-package" -b {} + 2>&1) || status=1
	else
		echo "FAIL: BUILDROOT_DIR=$BUILDROOT_DIR has no utils/check-package"
		status=1
	fi
else
	echo "check-package NOT run: set BUILDROOT_DIR"
fi

echo "== shellcheck"
if command -v shellcheck >/dev/null; then
	shellcheck -x \
		"$here/package/keepalived-rs/S45keepalived-rs" \
		"$here/check.sh" \
		"$here/tests/s45-busybox.sh" \
		"$repo/board/openwrt/keepalived-rs/files/keepalived-rs.init" \
		"$repo/board/openwrt/tests/procd-init.sh" || status=1
else
	echo "FAIL: shellcheck not installed"
	status=1
fi

echo "== OpenWrt procd script (procd stubbed)"
if [ "${RUN_INIT_TESTS:-0}" = 1 ]; then
	sh "$repo/board/openwrt/tests/procd-init.sh" || status=1
	echo "== Buildroot S45 script under busybox"
	sh "$here/tests/s45-busybox.sh" || status=1
else
	# A binary path that does not exist keeps the test to the stubs.
	sh "$repo/board/openwrt/tests/procd-init.sh" /nonexistent || status=1
fi

if [ "$status" -eq 0 ]; then
	echo "check.sh: all checks passed"
else
	echo "check.sh: FAILED"
fi
exit "$status"
