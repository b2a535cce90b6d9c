#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for ml_ext demo and tests.
#
#   scripts/cluster.sh start    initdb if needed, start (reuses a running cluster)
#   scripts/cluster.sh stop     stop it (data is kept; rm -rf .cluster to discard)
#   scripts/cluster.sh status   exit 0 when running, 3 when stopped
#   scripts/cluster.sh env      print export lines: eval "$(scripts/cluster.sh env)"
#
# Unix socket only, trust authentication, port ${ML_PORT:-54329}.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
start) mlx_cluster_start; mlx_cluster_status ;;
stop) mlx_cluster_stop ;;
status) mlx_cluster_status ;;
env) mlx_cluster_env ;;
*) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
