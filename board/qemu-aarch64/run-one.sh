#!/bin/bash
# One aarch64 router, scenarios inside it: board/qemu-x86_64/run-one.sh with
# VM_ARCH=aarch64 (the same scenarios/, e.g. run-one.sh boot, --all, --shell).
set -euo pipefail
export VM_ARCH=aarch64
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../qemu-x86_64/run-one.sh" "$@"
