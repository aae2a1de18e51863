#!/bin/bash
# Two aarch64 routers on one segment: board/qemu-x86_64/run-pair.sh with
# VM_ARCH=aarch64 (same scenarios (a) to (f)). R1_ARCH / R2_ARCH mix boards:
#
#   board/qemu-aarch64/run-pair.sh                 r1 and r2 aarch64
#   R1_ARCH=x86_64 board/qemu-aarch64/run-pair.sh  r1 x86_64, r2 aarch64
set -euo pipefail
export VM_ARCH=aarch64
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../qemu-x86_64/run-pair.sh" "$@"
