# The real programs that the preload job runs with alloc as their malloc, and
# that scripts/record_real.sh and scripts/ci.d/61-record.sh record and replay
# (sourced, not run). Each wl_<name> runs in an empty current directory,
# prints to stdout only what must not depend on the allocator, and fails on
# any error. Needs: root (the repository), PY (a python3).
#   python   a dict/JSON/regex workload (tests/global/workload.py)
#   pytests  a subset of CPython's own test suite
#   sqlite   a generated database of SQLITE_ROWS rows (default 200,000),
#            updates, VACUUM, integrity_check
#   git      init, commit 1,000 files, a second commit, gc, fsck
#   gxx      g++ -O2 compiling and running a C++ program (tests/global/sample.cpp)

wl_python() { "$PY" "$root/tests/global/workload.py"; }

wl_pytests() {
  "$PY" -m test test_dict test_list test_set test_json test_re test_bytes test_unicode \
    test_threading test_gc test_pickle >log.txt 2>&1 || { tail -50 log.txt >&2; return 1; }
  grep -E '^(All [0-9]+ tests OK\.|Tests result: )' log.txt
}

wl_sqlite() {
  sqlite3 db.sqlite <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, val REAL, data BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${SQLITE_ROWS:-200000})
  INSERT INTO t SELECT x, 'name' || (x * 7919 % 100003), x * 1.25, zeroblob(x % 300) FROM c;
CREATE INDEX t_name ON t(name);
CREATE INDEX t_val ON t(val);
UPDATE t SET val = val * 2, name = upper(name) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 7 = 0;
SELECT count(*), sum(val), sum(length(data)) FROM t;
SELECT name, count(*) AS n FROM t GROUP BY name ORDER BY n DESC, name LIMIT 5;
SELECT group_concat(id, ',') FROM (SELECT id FROM t ORDER BY name DESC, id LIMIT 20);
VACUUM;
PRAGMA integrity_check;
SQL
}

wl_git() {
  export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid \
    GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid \
    GIT_AUTHOR_DATE='2024-01-01T00:00:00+0000' GIT_COMMITTER_DATE='2024-01-01T00:00:00+0000'
  git init -q -b main repo
  cd repo
  mkdir -p $(seq -f 'dir%g' 0 19)
  gawk 'BEGIN { for (i = 1; i <= 1000; i++) { f = sprintf("dir%d/file%d.txt", i % 20, i);
         for (j = 0; j < 20 + i % 50; j++) printf "file %d line %d %s\n", i, j, sprintf("%x", i * j * 2654435761 % 4294967296) > f;
         close(f) } }'
  git add -A
  git commit -q -m "1,000 files"
  gawk 'BEGIN { for (i = 1; i <= 1000; i += 10) { f = sprintf("dir%d/file%d.txt", i % 20, i);
         printf "changed %d\n", i >> f; close(f) } }'
  git commit -q -a -m "100 files changed"
  git gc -q
  git fsck --full --strict 2>&1
  git rev-parse HEAD HEAD~1
  git count-objects -v | grep -E '^(count|in-pack|packs):'
  git log --format='%s' | cat
  git diff --stat HEAD~1 | tail -1
}

wl_gxx() {
  cp "$root/tests/global/sample.cpp" .
  g++ -O2 -std=c++17 -S sample.cpp -o sample.s
  g++ -O2 sample.s -o sample
  ./sample
  sha256sum sample.s
}
