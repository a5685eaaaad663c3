#!/usr/bin/env bash
# The failover benchmark: a two-node formation of real processes (controller, keepers, PostgreSQL) on
# default settings; N faults per scenario, each measured from a client writing a row every 20 ms.
#   bench/failover/run.sh [--runs N] [--scenario host-kill|host-stall|pg-crash|switchover|all|stall-envelope]   (default 10, all)
# Prints one line per run, a RESULT line per scenario; writes every run to bench/failover/results/latest.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
. bin/lib/ensure-postgres.sh
. bin/lib/cds.sh
pgw_ensure_postgres
mvn -B -q -ntp -DskipTests package -pl controller -am >&2
# a copy of the jar: a rebuild during the run must not change the programs under the running processes
jar="$(mktemp -d)/pgwarden.jar"
cp controller/target/pgwarden.jar "$jar"
trap 'rm -rf "$(dirname "$jar")"' EXIT
pgw_ensure_cds "$jar"
java $(pgw_cds_opts "$jar") -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 -cp "$jar" \
  io.pgwarden.lab.FailoverBench --out bench/failover/results/latest.json "$@"
