#!/usr/bin/env bash
# Load on the controller: simulated nodes reporting once a second.
#   bench/controller/run.sh [in-process|http] [nodes] [seconds]     (defaults: in-process 10000 30)
# Prints one RESULT line per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -ntp -DskipTests package -pl controller -am >&2
exec java -Xms1g -Xmx4g -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 -Dlogback.configurationFile=bench/controller/logback.xml \
  -cp controller/target/test-classes:controller/target/pgwarden.jar \
  io.pgwarden.controller.bench.ControllerBench "${1:-in-process}" "${2:-10000}" "${3:-30}"
