# Shared shell functions for the ml_ext developer scripts (sourced, not run).
#
#   deps:    mlx_deps GROUP...        install missing Debian packages (apt-get)
#   build:   mlx_build, mlx_install   PGXS build and install against PostgreSQL 15
#   cluster: mlx_cluster_start|stop|status|env   a throwaway cluster for demo and tests
#   pg18:    mlx_pg18_cache, mlx_pg18_build   PostgreSQL 18 from ../shared/vendor, built once
#
# Everything here is idempotent: calling a function twice is harmless.

# shellcheck shell=bash

MLX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# The server to build for and test against: $PG_CONFIG when set (make test
# PG_CONFIG=/path/to/pg_config), otherwise Debian 12's PostgreSQL 15.
if [ -n "${PG_CONFIG:-}" ]; then
	MLX_PG_CONFIG="$(command -v "$PG_CONFIG" 2>/dev/null || true)"
	[ -n "$MLX_PG_CONFIG" ] && [ -x "$MLX_PG_CONFIG" ] || {
		printf 'error: PG_CONFIG=%s is not an executable pg_config\n' "$PG_CONFIG" >&2
		exit 1
	}
	MLX_PG_BINDIR="$("$MLX_PG_CONFIG" --bindir)"
	MLX_PG_MAJOR="$("$MLX_PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
else
	MLX_PG_MAJOR=15
	MLX_PG_BINDIR="/usr/lib/postgresql/${MLX_PG_MAJOR}/bin"
	MLX_PG_CONFIG="${MLX_PG_BINDIR}/pg_config"
fi
export MLX_PG_BINDIR
MLX_PORT="${ML_PORT:-54329}"
# shellcheck disable=SC2034 # used by the scripts that source this file
MLX_PYTHON=/usr/bin/python3  # Debian's, with python3-sklearn etc. (not a pyenv one)

# Package groups.  "core" is what building and running the demo needs; "test" is
# installed by "make test" only; "bench" is what scripts/bench.sh needs on top of core.
MLX_PKGS_CORE="make gcc libc6-dev liblapacke-dev libopenblas-dev"
# Debian's server packages, unless PG_CONFIG names a server built elsewhere
[ -n "${PG_CONFIG:-}" ] || MLX_PKGS_CORE="$MLX_PKGS_CORE postgresql-${MLX_PG_MAJOR} postgresql-server-dev-${MLX_PG_MAJOR}"
MLX_PKGS_TEST="python3-sklearn python3-statsmodels python3-xgboost python3-psycopg2 python3-numpy clang libclang-rt-14-dev libpostgresql-jdbc-java openjdk-17-jdk-headless"
# pg_cron for the cron suite, where Debian packages it for this major (not
# for a server built from source, e.g. PostgreSQL 18 from scripts/pg18.sh)
if [ -z "${PG_CONFIG:-}" ] || apt-cache show "postgresql-${MLX_PG_MAJOR}-cron" >/dev/null 2>&1; then
	MLX_PKGS_TEST="$MLX_PKGS_TEST postgresql-${MLX_PG_MAJOR}-cron"
fi
MLX_PKGS_BENCH="python3-psycopg2 python3-numpy python3-sklearn python3-xgboost"
# building PostgreSQL 18 from its release source (scripts/pg18.sh)
MLX_PKGS_PGBUILD="bison flex make gcc libc6-dev zlib1g-dev"

mlx_say() { printf '==> %s\n' "$*" >&2; }
mlx_warn() { printf 'warning: %s\n' "$*" >&2; }
mlx_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

mlx_is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly when we are root, otherwise through sudo.
mlx_as_root() {
	if mlx_is_root; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		mlx_die "need root for: $* (run as root or install sudo)"
	fi
}

# ---------------------------------------------------------------- deps

mlx_pkg_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# mlx_deps core [test] [bench]: apt-get install the packages of the groups that are
# missing; does nothing (and needs no root, no network) when all are present.
mlx_deps() {
	local group pkgs="" p missing=""
	for group in "$@"; do
		case "$group" in
		core) pkgs="$pkgs $MLX_PKGS_CORE" ;;
		test) pkgs="$pkgs $MLX_PKGS_TEST" ;;
		bench) pkgs="$pkgs $MLX_PKGS_BENCH" ;;
		pgbuild) pkgs="$pkgs $MLX_PKGS_PGBUILD" ;;
		*) mlx_die "unknown package group: $group (core, test, bench, pgbuild)" ;;
		esac
	done
	command -v dpkg-query >/dev/null 2>&1 || mlx_die "dpkg-query not found: these scripts need Debian 12"
	for p in $pkgs; do
		mlx_pkg_installed "$p" || case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
	done
	if [ -z "$missing" ]; then
		mlx_say "dependencies ($*): all installed"
		return 0
	fi
	mlx_say "installing missing packages:$missing"
	# shellcheck disable=SC2086
	mlx_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	mlx_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
	for p in $missing; do
		mlx_pkg_installed "$p" || mlx_die "package $p is still not installed"
	done
}

# ---------------------------------------------------------------- build

mlx_build() {
	mlx_say "building ml_ext${CI:+ (CI=$CI)}"
	make -s -C "$MLX_ROOT" -j2 PG_CONFIG="$MLX_PG_CONFIG"
}

mlx_install() {
	mlx_say "installing ml_ext into $("$MLX_PG_CONFIG" --pkglibdir)"
	mlx_as_root make -s -C "$MLX_ROOT" install PG_CONFIG="$MLX_PG_CONFIG"
}

# ---------------------------------------------------------------- cluster
#
# Layout: BASE/data (PGDATA), BASE/run (unix socket), BASE/log/postgres.log.
# BASE is $MLX_ROOT/.cluster when the server's OS user can reach and write it,
# otherwise a private directory /tmp/ml_ext-<uid>-<hash of checkout path>.
# As root the server runs as the "postgres" OS user (postgres refuses root).
# MLX_CLUSTER_SUB=NAME (set by a script, e.g. test/cron/run.sh) selects a second
# cluster in BASE/NAME/{data,run,log}; MLX_CLUSTER_CONF_EXTRA holds extra
# postgresql.conf lines for it, and the script sets MLX_PORT.

# The OS user the server runs as.
mlx_pg_osuser() {
	if mlx_is_root; then echo postgres; else id -un; fi
}

# Run a command as the server's OS user, from a directory it can enter.
mlx_as_pguser() {
	if mlx_is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# Can the server's OS user traverse to (and write in) directory $1?
mlx_pg_can_reach() {
	if mlx_is_root; then
		id postgres >/dev/null 2>&1 || mlx_die "OS user postgres does not exist (is postgresql-${MLX_PG_MAJOR} installed?)"
		runuser -u postgres -- test -x "$1"
	else
		[ -x "$1" ] && [ -w "$1" ]
	fi
}

mlx_tmp_base() {
	local h
	h="$(printf '%s' "$MLX_ROOT" | md5sum | cut -c1-10)"
	echo "/tmp/ml_ext-$(id -u)-$h"
}

# Print the cluster base directory.  The checkout's .cluster wins when it already
# holds a cluster, or when it is usable; the /tmp fallback likewise.
mlx_cluster_base() {
	local in="$MLX_ROOT/.cluster" tmp
	tmp="$(mlx_tmp_base)"
	# unix socket paths are limited to 107 bytes
	if [ ${#in} -le 80 ] && mlx_pg_can_reach "$MLX_ROOT"; then
		if [ ! -e "$in" ] || mlx_pg_can_reach "$in"; then
			echo "$in"
			return
		fi
	fi
	echo "$tmp"
}

# Set MLX_BASE MLX_DATA MLX_RUN MLX_LOGDIR MLX_LOG.
mlx_cluster_paths() {
	MLX_BASE="$(mlx_cluster_base)"
	[ -z "${MLX_CLUSTER_SUB:-}" ] || MLX_BASE="$MLX_BASE/$MLX_CLUSTER_SUB"
	MLX_DATA="$MLX_BASE/data"
	MLX_RUN="$MLX_BASE/run"
	MLX_LOGDIR="$MLX_BASE/log"
	MLX_LOG="$MLX_LOGDIR/postgres.log"
}

mlx_pg_ctl() { mlx_as_pguser "$MLX_PG_BINDIR/pg_ctl" -D "$MLX_DATA" "$@"; }

# Is a server running on our data directory?  (pg_ctl status exits 0 only then.)
mlx_cluster_running() {
	[ -f "$MLX_DATA/postmaster.pid" ] && mlx_pg_ctl status >/dev/null 2>&1
}

# Port of the running server, from postmaster.pid (line 4).
mlx_cluster_running_port() {
	sed -n 4p "$MLX_DATA/postmaster.pid" 2>/dev/null
}

mlx_cluster_ready() {
	"$MLX_PG_BINDIR/pg_isready" -q -h "$MLX_RUN" -p "$1" -U postgres -d postgres
}

# Create the directories (private, owned by the server's OS user).
mlx_cluster_mkdirs() {
	local u d top
	u="$(mlx_pg_osuser)"
	top="$(mlx_cluster_base)" # = MLX_BASE unless MLX_CLUSTER_SUB is set
	if [ "$top" != "$MLX_ROOT/.cluster" ]; then
		# /tmp fallback: refuse a directory someone else planted there
		if [ -e "$top" ] && { [ -L "$top" ] || [ "$(stat -c %U "$top")" != "$u" ]; }; then
			mlx_die "$top exists and is not a directory owned by $u; remove it"
		fi
	fi
	mkdir -p "$top" "$MLX_BASE" "$MLX_RUN" "$MLX_LOGDIR"
	for d in "$top" "$MLX_BASE" "$MLX_RUN" "$MLX_LOGDIR"; do
		chmod 700 "$d"
		mlx_is_root && chown postgres:postgres "$d"
	done
	return 0
}

mlx_cluster_initdb() {
	mlx_say "initdb $MLX_DATA"
	rm -rf "$MLX_DATA"
	mkdir -p "$MLX_DATA"
	chmod 700 "$MLX_DATA"
	mlx_is_root && chown postgres:postgres "$MLX_DATA"
	mlx_as_pguser "$MLX_PG_BINDIR/initdb" -D "$MLX_DATA" -U postgres --auth=trust \
		--encoding=UTF8 --no-locale --no-sync >"$MLX_LOGDIR/initdb.log" 2>&1 ||
		{ cat "$MLX_LOGDIR/initdb.log" >&2; mlx_die "initdb failed"; }
	echo "include_if_exists = 'ml_ext_cluster.conf'" >>"$MLX_DATA/postgresql.conf"
}

# (Re)write the settings file included from postgresql.conf.
mlx_cluster_conf() {
	local f="$MLX_DATA/ml_ext_cluster.conf"
	cat >"$f" <<EOF
# written by scripts/lib.sh at every start; a throwaway cluster for ml_ext demo/tests
port = $MLX_PORT
listen_addresses = ''
unix_socket_directories = '$MLX_RUN'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF
	[ -z "${MLX_CLUSTER_CONF_EXTRA:-}" ] || printf '%s\n' "$MLX_CLUSTER_CONF_EXTRA" >>"$f"
	mlx_is_root && chown postgres:postgres "$f"
	return 0
}

mlx_cluster_start() {
	mlx_cluster_paths
	[ -x "$MLX_PG_BINDIR/initdb" ] || mlx_die "$MLX_PG_BINDIR/initdb not found: run scripts/deps.sh"
	mlx_cluster_mkdirs
	if [ ! -f "$MLX_DATA/PG_VERSION" ]; then
		mlx_cluster_initdb
	elif [ "$(cat "$MLX_DATA/PG_VERSION")" != "$MLX_PG_MAJOR" ]; then
		mlx_say "data directory is not PostgreSQL $MLX_PG_MAJOR: recreating"
		mlx_cluster_stop_quiet
		mlx_cluster_initdb
	fi
	if mlx_cluster_running; then
		if [ "$(mlx_cluster_running_port)" = "$MLX_PORT" ] && mlx_cluster_ready "$MLX_PORT"; then
			mlx_say "cluster already running (port $MLX_PORT, data $MLX_DATA)"
			return 0
		fi
		mlx_say "cluster is running but not answering on port $MLX_PORT: restarting"
		mlx_cluster_stop_quiet
	fi
	# a postmaster.pid left by a crashed server whose pid now belongs to another process
	if [ -f "$MLX_DATA/postmaster.pid" ] && ! mlx_cluster_running; then
		rm -f "$MLX_DATA/postmaster.pid"
	fi
	mlx_cluster_conf
	mlx_say "starting cluster: data $MLX_DATA, socket $MLX_RUN, port $MLX_PORT"
	# BLAS runs single-threaded inside a backend: parallelism comes from parallel workers
	if ! OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 mlx_pg_ctl start -w -t 60 -l "$MLX_LOG" >/dev/null; then
		tail -n 30 "$MLX_LOG" >&2 || true
		mlx_die "could not start the cluster (log: $MLX_LOG)"
	fi
	mlx_cluster_ready "$MLX_PORT" || mlx_die "cluster started but does not accept connections (log: $MLX_LOG)"
}

mlx_cluster_stop_quiet() {
	if mlx_cluster_running; then
		mlx_pg_ctl stop -m fast -w -t 60 >/dev/null 2>&1 ||
			mlx_pg_ctl stop -m immediate -w -t 60 >/dev/null 2>&1 || true
	fi
}

mlx_cluster_stop() {
	mlx_cluster_paths
	if mlx_cluster_running; then
		mlx_say "stopping cluster ($MLX_DATA)"
		mlx_cluster_stop_quiet
		! mlx_cluster_running || mlx_die "could not stop the cluster (log: $MLX_LOG)"
	else
		mlx_say "cluster not running ($MLX_DATA)"
	fi
}

# Exit status 0 when running and accepting connections, 3 when stopped (like pg_ctl).
mlx_cluster_status() {
	mlx_cluster_paths
	if mlx_cluster_running; then
		local port
		port="$(mlx_cluster_running_port)"
		if mlx_cluster_ready "$port"; then
			echo "running: port $port, socket $MLX_RUN, data $MLX_DATA, log $MLX_LOG"
			return 0
		fi
		echo "running but not accepting connections: data $MLX_DATA, log $MLX_LOG"
		return 1
	fi
	echo "stopped: data $MLX_DATA"
	return 3
}

# Set PGHOST PGPORT PGUSER PGDATABASE for this shell (port of the running server if any).
mlx_cluster_export() {
	mlx_cluster_paths
	local port="$MLX_PORT"
	if mlx_cluster_running && [ -n "$(mlx_cluster_running_port)" ]; then
		port="$(mlx_cluster_running_port)"
	fi
	export PGHOST="$MLX_RUN" PGPORT="$port" PGUSER=postgres PGDATABASE="${ML_DATABASE:-postgres}"
	unset PGPASSWORD PGSERVICE PGHOSTADDR 2>/dev/null || true
}

mlx_cluster_env() {
	mlx_cluster_export
	printf "export PGHOST=%q\n" "$PGHOST"
	printf "export PGPORT=%q\n" "$PGPORT"
	printf "export PGUSER=%q\n" "$PGUSER"
	printf "export PGDATABASE=%q\n" "$PGDATABASE"
}

# psql against the throwaway cluster (PG* exported by mlx_cluster_export).
mlx_psql() {
	"$MLX_PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 "$@"
}

# Drop and create database $1 (a clean slate: no stale extension objects).
mlx_fresh_db() {
	mlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" >/dev/null
}

# ---------------------------------------------------------------- PostgreSQL 18
#
# PostgreSQL 18 is not a Debian 12 package: the tests build its release source
# (../shared/vendor, next to the checkout) once into a cache outside the
# checkout, shared by every checkout on the machine and reused by later runs.
# A finished build holds the stamp file .ml_ext-complete; a half-done one (a
# killed run) is removed and redone.

MLX_PG18_VERSION=18.6
MLX_PG18_TARBALL="$(cd "$MLX_ROOT/.." && pwd -P)/shared/vendor/postgresql-${MLX_PG18_VERSION}.tar.bz2"
MLX_PG18_SHA256=555610c24d53e4316da5b7d3fc25c279d96856d5e0e23ee308c328c5fa881d9f

# The cache directory (the install prefix): /var/cache/ml_ext as root, else
# $XDG_CACHE_HOME/ml_ext (~/.cache/ml_ext); ML_PG18_CACHE overrides it.
mlx_pg18_cache() {
	if [ -n "${ML_PG18_CACHE:-}" ]; then
		echo "$ML_PG18_CACHE"
	elif mlx_is_root; then
		echo "/var/cache/ml_ext/pg18-$MLX_PG18_VERSION"
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/ml_ext/pg18-$MLX_PG18_VERSION"
	fi
}

mlx_pg18_ready() { [ -f "$(mlx_pg18_cache)/.ml_ext-complete" ] && [ -x "$(mlx_pg18_cache)/bin/pg_config" ]; }

# Why PostgreSQL 18 cannot be had here (empty when it can): the source is absent.
mlx_pg18_unavailable() {
	mlx_pg18_ready && return 0
	[ -f "$MLX_PG18_TARBALL" ] || echo "no $MLX_PG18_TARBALL"
}

# Build and install PostgreSQL 18 into the cache unless it is there already.
# Prints nothing on stdout; the build log is in the cache's build directory.
mlx_pg18_build() {
	local cache src log sum
	cache="$(mlx_pg18_cache)"
	mlx_pg18_ready && return 0
	[ -f "$MLX_PG18_TARBALL" ] || mlx_die "$MLX_PG18_TARBALL is absent"
	mkdir -p "$(dirname "$cache")"
	# one builder at a time: a second run waits, then finds the stamp
	exec 9>"$cache.lock"
	flock 9
	if mlx_pg18_ready; then
		exec 9>&-
		return 0
	fi
	sum="$(sha256sum "$MLX_PG18_TARBALL" | cut -d' ' -f1)"
	[ "$sum" = "$MLX_PG18_SHA256" ] || mlx_die "$MLX_PG18_TARBALL: sha256 $sum, expected $MLX_PG18_SHA256"
	mlx_deps pgbuild >&2
	mlx_say "building PostgreSQL $MLX_PG18_VERSION into $cache (once; a few minutes)"
	rm -rf "$cache" "$cache.build"
	mkdir -p "$cache.build"
	log="$cache.build/build.log"
	src="$cache.build/postgresql-$MLX_PG18_VERSION"
	if ! (
		set -e
		cd "$cache.build"
		tar xjf "$MLX_PG18_TARBALL"
		cd "$src"
		./configure --prefix="$cache" --without-readline --without-icu
		make -j2 -s
		make -s install
	) >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		exec 9>&-
		mlx_die "PostgreSQL $MLX_PG18_VERSION build failed (log: $log)"
	fi
	touch "$cache/.ml_ext-complete"
	# the sources are not needed any more; keep the log
	rm -rf "$src"
	exec 9>&-
	mlx_say "PostgreSQL $MLX_PG18_VERSION installed: $cache/bin/pg_config"
}
