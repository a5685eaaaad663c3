# Sourced by bin/pgwarden and bench/failover/run.sh: an application class-data archive beside a jar
# (jar "x.jar" -> "x.jsa"), made by 'pgwarden cds-training' whenever the jar is newer. Every JVM started
# with it (pgwarden itself, and the keepers and controller the demo and the lab start) maps the classes
# instead of loading them: a keeper starts in about half the time. Optional: without it everything works.
pgw_ensure_cds() {
  local jar="$1" jsa="${1%.jar}.jsa"
  if [ ! -f "$jsa" ] || [ "$jar" -nt "$jsa" ]; then
    rm -f "$jsa"
    java -XX:ArchiveClassesAtExit="$jsa" -Xlog:cds=off -Xlog:cds+dynamic=off \
      -Djava.util.concurrent.ForkJoinPool.common.parallelism=4 -cp "$jar" io.pgwarden.cli.Pgwarden cds-training \
      >/dev/null 2>&1 || rm -f "$jsa"
  fi
}

# The JVM options that use the archive of "$1" when there is one.
pgw_cds_opts() {
  local jsa="${1%.jar}.jsa"
  if [ -f "$jsa" ]; then echo "-XX:SharedArchiveFile=$jsa -Xlog:cds=off -Xlog:cds+dynamic=off"; fi
}
