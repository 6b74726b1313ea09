#!/usr/bin/env bash
# Boot one Debian arm64 guest with -device mmn-smmu and print what Linux
# enumerated (lspci-like lines from tests/guest/init) and its verdict.
#
# Usage: guest-show.sh [--kernel SPEC] [--cpu CPU] [--qemu PATH]
#                      [--device 'ARGS'] [--timeout SECONDS]
#   guest-test.sh --show with the same options (the first --kernel and
#   --cpu are booted; default kernel 6.1, CPU cortex-a57): see
#   guest-test.sh --help.
set -euo pipefail
case "${1:-}" in
-h|--help)
    awk '/^# Usage:/ { on = 1 } on && !/^#/ { exit } on { sub(/^# ?/, ""); print }' "$0"
    echo
    exec "$(dirname "$0")/guest-test.sh" --help ;;
esac
exec "$(dirname "$0")/guest-test.sh" --show "$@"
