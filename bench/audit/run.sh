#!/usr/bin/env bash
# Audit replay benchmark: builds the controller's test classes, then writes a journal of 1,000,000 events in
# the journal's own format into an H2 file and into a throw-away PostgreSQL, and replays it.
# Prints "RESULT store=<h2|postgres> events=<n> events_per_s=<x>". Options are passed on to the benchmark:
#   bench/audit/run.sh [--events N] [--stores h2,postgres] [--threads T] [--warmups W] [--runs R] [--dir D]
# Needs Java 17, Maven, and PostgreSQL's server programs for the postgres store (apt-get install -y postgresql);
# run as root, PostgreSQL itself runs as PGWARDEN_PG_USER (default postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file=controller/target/audit-bench.classpath
build() {
  mvn -B -q "$@" -pl controller -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/audit-bench.classpath -Dmdep.includeScope=test
}
build -o || build
exec java -Xms1g -Xmx3g -XX:+UseParallelGC \
  -cp "controller/target/classes:controller/target/test-classes:$(cat "$cp_file")" \
  io.pgwarden.controller.audit.bench.AuditBench "$@"
