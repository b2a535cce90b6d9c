#!/usr/bin/env bash
# Build PostgreSQL 18 from ../shared/vendor/postgresql-18.6.tar.bz2 once into a
# cache outside the checkout (see mlx_pg18_cache in lib.sh) and print its
# pg_config.  Later runs reuse the cache.  Where the source is absent, print
# "pg18: skipped (...)" and exit 0.
#
#   scripts/pg18.sh            build if needed, print the pg_config path
#   scripts/pg18.sh --path     print the pg_config path only if already built
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
--path)
	mlx_pg18_ready && echo "$(mlx_pg18_cache)/bin/pg_config"
	exit 0
	;;
-h | --help) sed -n '2,8p' "$0"; exit 0 ;;
esac
why="$(mlx_pg18_unavailable)"
if [ -n "$why" ]; then
	echo "pg18: skipped ($why)"
	exit 0
fi
mlx_pg18_build
echo "$(mlx_pg18_cache)/bin/pg_config"
