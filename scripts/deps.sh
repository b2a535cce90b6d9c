#!/usr/bin/env bash
# Install the Debian 12 packages ml_ext needs, only those that are missing.
#
#   scripts/deps.sh              build + demo: PostgreSQL 15, its server headers, LAPACKE/BLAS
#   scripts/deps.sh --test       the above plus the test suites' packages
#   scripts/deps.sh core test bench    explicit groups (see lib.sh)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

groups=()
for a in "$@"; do
	case "$a" in
	--test) groups+=(core test) ;;
	--bench) groups+=(core bench) ;;
	-h | --help) sed -n '2,7p' "$0"; exit 0 ;;
	*) groups+=("$a") ;;
	esac
done
[ ${#groups[@]} -gt 0 ] || groups=(core)
mlx_deps "${groups[@]}"
