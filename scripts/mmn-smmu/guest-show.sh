#!/usr/bin/env bash
# Boot one Debian arm64 guest with -device mmn-smmu and print what Linux
# enumerated (lspci-like lines from tests/guest/init) and its verdict.
# Same options as guest-test.sh (e.g. --kernel 6.12).
set -euo pipefail
exec "$(dirname "$0")/guest-test.sh" --show "$@"
