# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# What differs between the lab boards: sourced by build.sh and lib.sh (this
# directory holds the code both boards share; board/qemu-aarch64/ runs it with
# the architecture aarch64).
#
#   vm_arch ARCH    sets, for ARCH = x86_64 or aarch64:
#     ARCH_TARGET    the Rust target of the static keepalived-rs
#     ARCH_DEB       the Debian architecture (kernel, busybox-static)
#     ARCH_QEMU      the qemu system emulator, ARCH_QEMU_PKG its Debian package
#     ARCH_MACHINE   qemu arguments choosing the machine and CPU
#     ARCH_CONSOLE   the serial console's device name in the guest
#     ARCH_IMAGES    where build.sh writes the images (target/vm for x86_64,
#                    target/vm-ARCH otherwise; VM_OUT overrides it for x86_64)

# Read VM_OUT once, when sourced: lib.sh reuses the name for command output.
ARCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARCH_X86_IMAGES=${VM_OUT:-$ARCH_REPO/target/vm}

vm_arch() { # ARCH
	case "$1" in
		x86_64)
			ARCH_TARGET=x86_64-unknown-linux-musl
			ARCH_DEB=amd64
			ARCH_QEMU=qemu-system-x86_64
			ARCH_QEMU_PKG=qemu-system-x86
			ARCH_MACHINE=()
			ARCH_CONSOLE=ttyS0
			ARCH_IMAGES=$ARCH_X86_IMAGES
			;;
		aarch64)
			ARCH_TARGET=aarch64-unknown-linux-musl
			ARCH_DEB=arm64
			ARCH_QEMU=qemu-system-aarch64
			ARCH_QEMU_PKG=qemu-system-arm
			ARCH_MACHINE=(-M virt -cpu cortex-a57)
			ARCH_CONSOLE=ttyAMA0
			ARCH_IMAGES=$ARCH_REPO/target/vm-aarch64
			;;
		*)
			echo "unknown architecture '$1' (x86_64 or aarch64)" >&2
			return 1
			;;
	esac
}
