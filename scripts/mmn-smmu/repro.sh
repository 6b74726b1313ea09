#!/usr/bin/env bash
# mmn-smmu's main job: the stale read-only PTE reproduction report.
# Until the report exists this builds QEMU and boots a real Debian arm64
# guest with -device mmn-smmu, showing what the guest sees.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
exec "$repo/scripts/mmn-smmu/guest-show.sh" "$@"
