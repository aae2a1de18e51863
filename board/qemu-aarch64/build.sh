#!/bin/bash
# Build the aarch64 lab VM: board/qemu-x86_64/build.sh --arch aarch64 (the
# boards share their scripts; see README.md). Output in target/vm-aarch64/.
#
#   board/qemu-aarch64/build.sh [--no-cargo]
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../qemu-x86_64/build.sh" --arch aarch64 "$@"
