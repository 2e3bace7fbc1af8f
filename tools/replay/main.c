/*
 * main.c: alloc-replay, "which allocator fits my program?"
 *
 *   alloc-replay TRACE [--contenders LIST] [--threads preserve|serial]
 *                      [--out DIR] [--timeout SECONDS] [--quiet]
 *   alloc-replay --check TRACE      read the trace, print its facts, exit 0 if sound
 *
 * Reads a trace recorded by ALLOC_TRACE (or the recorder API, alloc/record.h),
 * analyses it, and replays it against every contender that can serve it: each
 * of alloc's strategies through its handle (alloc-bench's rows, the same
 * configurations the benchmark measures), the global adapter's strategies as
 * the process's malloc (alloc-malloc:<strategy>), and glibc, jemalloc,
 * mimalloc and tcmalloc through their malloc. Every contender runs in a child
 * process of its own (this program re-executed with --child), the preloaded
 * mallocs with LD_PRELOAD, so each owns its process and its resident memory
 * is its own. A contender that cannot serve the trace is left out with the
 * reason (a pool serves one size; a stack needs LIFO order, and the report
 * says what share of frees was out of order).
 *
 * Writes DIR/replay.md, DIR/replay.json (default: the current directory) and,
 * when gnuplot is installed, DIR/replay.svg (time per operation and resident
 * bytes per live byte for every contender):
 * the trace's facts and histograms, per contender the CPU time per operation,
 * peak resident memory over peak live bytes and failures, and a
 * recommendation in words. Exit status: 0 done, 1 a contender failed (crash,
 * failed invariant check), 2 bad usage or an unreadable trace (the reader's
 * message names the offset).
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/page.h"
#include "bench.h"
#include "replay.h"

extern char **environ;

/* --- loading --------------------------------------------------------------------- */

typedef struct loaded {
    void *map;
    size_t len;
    alloc_trace t;
} loaded;

/* Maps and parses path; the events come from the page allocator, so neither
 * a preloaded malloc nor the contender's heap holds them. */
static int load(const char *path, loaded *l)
{
    memset(l, 0, sizeof *l);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "alloc-replay: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "alloc-replay: %s: empty or unreadable (not a trace)\n", path);
        close(fd);
        return -EINVAL;
    }
    l->len = (size_t)st.st_size;
    l->map = mmap(NULL, l->len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (l->map == MAP_FAILED) {
        fprintf(stderr, "alloc-replay: %s: mmap: %s\n", path, strerror(errno));
        return -errno;
    }
    alloc_trace_error err;
    int e = alloc_trace_parse(&l->t, l->map, l->len, alloc_page_allocator(), &err);
    if (e != 0) {
        if (e == -ENOMEM)
            fprintf(stderr, "alloc-replay: %s: out of memory reading the trace\n", path);
        else
            fprintf(stderr, "alloc-replay: %s: offset %llu: %s\n", path, (unsigned long long)err.offset, err.message);
        munmap(l->map, l->len);
        l->map = NULL;
    }
    return e;
}

static void unload(loaded *l)
{
    alloc_trace_free(&l->t);
    if (l->map) munmap(l->map, l->len);
}

/* --- contenders ------------------------------------------------------------------- */

#ifndef REPLAY_GLOBAL_NAMED
#define REPLAY_GLOBAL_NAMED ""
#endif

typedef struct entrant {
    char name[64];
    const bench_contender *c; /* the alloc-bench row */
    char strategy[32];        /* ALLOC_STRATEGY for alloc-malloc:<strategy>, else "" */
    char why[200];            /* non-empty: left out, and why */
    /* results */
    int status; /* 0 ok, 1 failed, 2 left out */
    char detail[200];
    replay_result r;
} entrant;

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Copies src into dst[cap], cut to fit. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void why_not(entrant *e, const analysis *an, bool preserve)
{
    const bench_contender *c = e->c;
    const char *n = c->name;
    double gib = (double)an->total_bytes / (1u << 30);
    if (strcmp(c->family, "inline") == 0)
        snprintf(e->why, sizeof e->why, "an inline fast path; a replay goes through the handle");
    else if (strcmp(c->family, "baseline") == 0 || (c->flags & BENCH_BASELINE))
        snprintf(e->why, sizeof e->why, "a reference line of the benchmark, not an allocator");
    else if (preserve && an->threads > 1 && !(c->flags & BENCH_THREAD_SAFE))
        snprintf(e->why, sizeof e->why, "not thread-safe, and the trace has %u threads (%llu cross-thread frees); "
                 "--threads serial replays them on one", an->threads, (unsigned long long)an->cross_thread_frees);
    else if ((starts(n, "pool") || starts(n, "locked-pool")) && an->distinct_sizes > 1)
        snprintf(e->why, sizeof e->why, "a pool serves one size; the trace has %llu sizes (commonest %llu B: %.1f %% of blocks)",
                 (unsigned long long)an->distinct_sizes, (unsigned long long)an->top_size,
                 an->allocs ? 100.0 * (double)an->top_size_count / (double)an->allocs : 0);
    else if (starts(n, "stack") && an->lifo_frees < an->frees)
        snprintf(e->why, sizeof e->why, "a stack needs LIFO order; %.1f %% of frees were out of order",
                 100.0 * (double)(an->frees - an->lifo_frees) / (double)an->frees);
    else if (strcmp(n, "slab") == 0 && an->max_size > (32u << 10))
        snprintf(e->why, sizeof e->why, "the slab serves blocks up to 32 KiB; the largest here is %llu B",
                 (unsigned long long)an->max_size);
    else if (strcmp(n, "page") == 0 && (an->peak_live_blocks > 30000 || an->ops > 400000))
        snprintf(e->why, sizeof e->why, "one mapping and system call per block: %llu live blocks, %llu operations "
                 "(the kernel allows 65530 mappings)", (unsigned long long)an->peak_live_blocks,
                 (unsigned long long)an->ops);
    else if ((strcmp(n, "bump") == 0 || strcmp(e->strategy, "bump") == 0) && gib > 4)
        snprintf(e->why, sizeof e->why, "never reuses freed memory, and the trace allocates %.1f GiB", gib);
}

static size_t make_entrants(entrant *out, size_t cap, const analysis *an, bool preserve, const char *only)
{
    size_t n = 0;
    for (size_t i = 0; i < bench_contender_count() && n < cap; i++) {
        const bench_contender *c = bench_contender_at(i);
        entrant *e = &out[n];
        memset(e, 0, sizeof *e);
        e->c = c;
        snprintf(e->name, sizeof e->name, "%s", c->name);
        why_not(e, an, preserve);
        n++;
        if (strcmp(c->name, "alloc-malloc") == 0) {
            char list[256];
            snprintf(list, sizeof list, "%s", REPLAY_GLOBAL_NAMED);
            for (char *s = strtok(list, ";, "); s && n < cap; s = strtok(NULL, ";, ")) {
                entrant *f = &out[n++];
                memset(f, 0, sizeof *f);
                f->c = c;
                snprintf(f->name, sizeof f->name, "alloc-malloc:%s", s);
                copy_text(f->strategy, sizeof f->strategy, s);
                why_not(f, an, preserve);
            }
        }
    }
    if (only && only[0]) {
        char list[1024];
        copy_text(list, sizeof list, only);
        for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
            bool known = false;
            for (size_t i = 0; i < n; i++) known = known || strcmp(s, out[i].name) == 0;
            if (!known) fprintf(stderr, "alloc-replay: no contender %s in this build (see --list)\n", s);
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            copy_text(list, sizeof list, only);
            bool in = false;
            for (char *s = strtok(list, ","); s; s = strtok(NULL, ","))
                if (strcmp(s, out[i].name) == 0) in = true;
            if (in) out[k++] = out[i];
        }
        n = k;
    }
    return n;
}

/* --- the child --------------------------------------------------------------------- */

static int run_child(const char *name, const char *path, bool preserve, int timeout)
{
    if (timeout > 0) alarm((unsigned)timeout);
    char base[64];
    snprintf(base, sizeof base, "%s", name);
    char *colon = strchr(base, ':');
    if (colon) *colon = '\0';
    const bench_contender *c = bench_contender_find(base);
    if (!c) {
        printf("status fail unknown contender %s\n", name);
        return 2;
    }
    if (c->preload && !dlsym(RTLD_DEFAULT, c->symbol)) {
        printf("status fail %s did not load (LD_PRELOAD of %s)\n", c->name, c->preload);
        return 2;
    }
    loaded l;
    if (load(path, &l) != 0) {
        printf("status fail cannot read the trace\n");
        return 2;
    }
    allocator a = {0};
    void *st = NULL;
    bool handle = !(c->flags & BENCH_MALLOC);
    if (handle) {
        analysis an;
        if (analyse(&l.t, &an) != 0) {
            printf("status fail out of memory\n");
            return 1;
        }
        bench_need need = {
            .max_block = an.max_size ? (size_t)an.max_size : 1,
            .max_live_bytes = (size_t)an.peak_live_bytes,
            .max_live_count = (size_t)an.peak_live_blocks,
            .total_bytes = (size_t)an.total_bytes,
            .fixed_size = an.distinct_sizes == 1 ? (size_t)an.top_size : 0,
            .align = (size_t)1 << (an.max_align_log2 > 4 ? an.max_align_log2 : 4),
            .threads = an.cross_thread_frees > 0,
        };
        const char *why = "cannot meet the trace's needs";
        if (c->create(&need, &st, &why) != 0) {
            printf("status skip %s\n", why);
            unload(&l);
            return 0;
        }
        a = ((bench_handle *)st)->a;
    }
    replay_result r;
    int e = replay_run(&l.t, a, preserve, isatty(STDERR_FILENO) || getenv("ALLOC_REPLAY_PROGRESS"), name, &r);
    bool ok = true;
    if (handle) {
        ok = !c->check || c->check(st);
        c->destroy(st);
    }
    unload(&l);
    if (e != 0) {
        printf("status fail replay: %s\n", strerror(-e));
        return 1;
    }
    printf("result %llu %.0f %.0f %.0f %llu %llu\n", (unsigned long long)r.ops, r.cpu_ns, r.rss_peak, r.live_at_peak,
           (unsigned long long)r.live_peak, (unsigned long long)r.failures);
    if (!ok) {
        printf("status fail invariant check failed after the replay\n");
        return 1;
    }
    printf("status ok\n");
    return 0;
}

static void run_entrant(entrant *e, const char *exe, const char *path, bool preserve, int timeout)
{
    char to[16];
    snprintf(to, sizeof to, "%d", timeout);
    const char *argv[] = {exe, "--child", e->name, path, "--threads", preserve ? "preserve" : "serial",
                          "--timeout", to, NULL};
    size_t envc = 0;
    while (environ[envc]) envc++;
    char **envp = calloc(envc + 3, sizeof *envp);
    char preload[PATH_MAX + 16], strategy[64];
    size_t k = 0;
    for (size_t i = 0; i < envc; i++)
        if (!starts(environ[i], "LD_PRELOAD=") && !starts(environ[i], "ALLOC_STRATEGY=") &&
            !starts(environ[i], "ALLOC_TRACE="))
            envp[k++] = environ[i];
    if (e->c->preload) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", e->c->preload);
        envp[k++] = preload;
    }
    if (e->strategy[0]) {
        snprintf(strategy, sizeof strategy, "ALLOC_STRATEGY=%s", e->strategy);
        envp[k++] = strategy;
    }
    envp[k] = NULL;
    int fds[2];
    e->status = 1;
    if (pipe(fds) != 0) {
        snprintf(e->detail, sizeof e->detail, "pipe: %s", strerror(errno));
        free(envp);
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    free(envp);
    if (rc != 0) {
        close(fds[0]);
        snprintf(e->detail, sizeof e->detail, "spawn: %s", strerror(rc));
        return;
    }
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    bool got = false;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        unsigned long long ops, live_peak, failures;
        double cpu, rss, live_at;
        if (sscanf(line, "result %llu %lf %lf %lf %llu %llu", &ops, &cpu, &rss, &live_at, &live_peak, &failures) == 6) {
            e->r = (replay_result){ops, cpu, rss, live_at, live_peak, failures};
            got = true;
        } else if (starts(line, "status ok")) {
            e->status = got ? 0 : 1;
        } else if (starts(line, "status skip ")) {
            e->status = 2;
            copy_text(e->why, sizeof e->why, line + 12);
        } else if (starts(line, "status fail ")) {
            e->status = 1;
            copy_text(e->detail, sizeof e->detail, line + 12);
        }
    }
    if (f) fclose(f);
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (WIFSIGNALED(ws)) {
        e->status = 1;
        if (WTERMSIG(ws) == SIGALRM)
            snprintf(e->detail, sizeof e->detail, "timed out after %d s", timeout);
        else
            snprintf(e->detail, sizeof e->detail, "killed by signal %d (%s)", WTERMSIG(ws), strsignal(WTERMSIG(ws)));
    } else if (e->status == 1 && !e->detail[0]) {
        snprintf(e->detail, sizeof e->detail, "exited with status %d without a result", WEXITSTATUS(ws));
    }
}

/* --- the report ---------------------------------------------------------------------- */

static double pct(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0; }
static double ns_op(const entrant *e) { return e->r.ops ? e->r.cpu_ns / (double)e->r.ops : 0; }
static double mem_ratio(const entrant *e)
{
    return e->r.live_peak ? e->r.rss_peak / (double)e->r.live_peak : 0;
}

static const char *bucket_label(unsigned k, char *buf, size_t cap)
{
    static const char *const units[] = {"", "Ki", "Mi", "Gi", "Ti"};
    if (k == 0) return "0";
    uint64_t lo = (uint64_t)1 << (k - 1);
    unsigned u = 0;
    while (lo >= 1024 && u < 4) {
        lo >>= 10;
        u++;
    }
    snprintf(buf, cap, "%llu%s", (unsigned long long)lo, units[u]);
    return buf;
}

static void histogram_md(FILE *f, const char *title, const char *unit, const uint64_t *h, uint64_t total)
{
    fprintf(f, "| %s | count | share |\n|---|---:|---:|\n", title);
    for (unsigned k = 0; k < HIST_BUCKETS; k++) {
        if (!h[k]) continue;
        char lo[32], hi[32];
        bucket_label(k, lo, sizeof lo);
        bucket_label(k + 1, hi, sizeof hi);
        fprintf(f, "| %s .. < %s %s | %llu | %.1f %% |\n", lo, hi, unit, (unsigned long long)h[k], pct(h[k], total));
    }
    fputc('\n', f);
}

/* The fastest (or leanest) contender that replayed without failures. */
static const entrant *best(const entrant *es, size_t n, bool by_memory, bool alloc_only)
{
    const entrant *b = NULL;
    for (size_t i = 0; i < n; i++) {
        const entrant *e = &es[i];
        if (e->status != 0 || e->r.failures || e->r.ops == 0) continue;
        bool is_alloc = !(e->c->flags & BENCH_MALLOC) || e->strategy[0] || strcmp(e->name, "alloc-malloc") == 0;
        if (alloc_only && (!is_alloc || strcmp(e->name, "c") == 0)) continue;
        double v = by_memory ? mem_ratio(e) : ns_op(e);
        if (by_memory && v <= 0) continue;
        if (!b || v < (by_memory ? mem_ratio(b) : ns_op(b))) b = e;
    }
    return b;
}

static const entrant *find(const entrant *es, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].name, name) == 0 && es[i].status == 0) return &es[i];
    return NULL;
}

static void recommend(FILE *f, const analysis *an, const entrant *es, size_t n)
{
    fprintf(f, "## Recommendation\n\n");
    if (an->ops == 0) {
        fprintf(f, "The trace holds no allocation: nothing to compare.\n\n");
        return;
    }
    if (an->frees && pct(an->batch_frees, an->frees) >= 30)
        fprintf(f, "- %.0f %% of frees come in phase-end batches (%llu runs of %d or more frees with no allocation "
                "between): an arena per phase, reset at its end, would release those blocks in one step.\n",
                pct(an->batch_frees, an->frees), (unsigned long long)an->batches, BATCH_RUN);
    if (an->frees && pct(an->lifo_frees, an->frees) >= 80)
        fprintf(f, "- %.0f %% of frees release the newest live block (LIFO): a stack or a bump allocator fits%s.\n",
                pct(an->lifo_frees, an->frees), an->lifo_frees == an->frees ? " exactly" : " most of the program");
    else if (an->frees)
        fprintf(f, "- Only %.0f %% of frees are LIFO: a stack does not fit; blocks die in no particular order.\n",
                pct(an->lifo_frees, an->frees));
    if (an->allocs && pct(an->top_size_count, an->allocs) >= 40)
        fprintf(f, "- %.0f %% of blocks are %llu B: a pool of that size serves them in O(1) with no header.\n",
                pct(an->top_size_count, an->allocs), (unsigned long long)an->top_size);
    if (an->max_size <= (32u << 10) && an->allocs)
        fprintf(f, "- Every block is at most 32 KiB (largest %llu B): the slab's size classes cover the whole trace.\n",
                (unsigned long long)an->max_size);
    if (an->cross_thread_frees)
        fprintf(f, "- %.1f %% of frees are hand-offs to another thread: the allocator must be thread-safe "
                "(alloc's malloc, locked wrappers, pool-mt).\n", pct(an->cross_thread_frees, an->frees));
    if (an->realloc_chains)
        fprintf(f, "- %llu blocks grow by realloc four times or more (median growth x%.2f): a page-backed block "
                "grows by remap without copying.\n", (unsigned long long)an->realloc_chains, an->realloc_growth_median);
    const entrant *fast = best(es, n, false, false), *lean = best(es, n, true, false);
    const entrant *afast = best(es, n, false, true), *alean = best(es, n, true, true);
    const entrant *glibc = find(es, n, "glibc");
    if (fast) fprintf(f, "- Fastest replay: **%s** (%.1f ns per operation).\n", fast->name, ns_op(fast));
    if (lean) fprintf(f, "- Least memory: **%s** (%.2f bytes resident per peak live byte).\n", lean->name, mem_ratio(lean));
    for (int k = 0; k < 2 && glibc; k++) {
        const entrant *e = k == 0 ? alean : afast;
        if (!e || (k == 1 && e == alean)) continue;
        double m = mem_ratio(glibc) > 0 ? mem_ratio(e) / mem_ratio(glibc) : 0;
        double tm = ns_op(glibc) > 0 ? ns_op(e) / ns_op(glibc) : 0;
        fprintf(f, "- Of alloc's own, **%s** is the %s: it uses %.0f %% %s memory than glibc at %.2fx its time.\n",
                e->name, k == 0 ? "leanest" : "fastest", m > 0 ? 100.0 * (m < 1 ? 1 - m : m - 1) : 0,
                m < 1 ? "less" : "more", tm);
    }
    fputc('\n', f);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void write_report(const char *dir, const char *path, const alloc_trace *t, const analysis *an,
                         const entrant *es, size_t n, bool preserve)
{
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/replay.md", dir);
    FILE *f = fopen(file, "w");
    if (!f) {
        fprintf(stderr, "alloc-replay: %s: %s\n", file, strerror(errno));
        return;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    fprintf(f, "# Replay of %s\n\n", base);
    fprintf(f, "Program `%s` (pid %lld), recorded under %s%s; %s.\n\n", t->program, (long long)t->pid,
            t->strategy[0] ? "ALLOC_STRATEGY=" : "alloc's default strategy", t->strategy,
            t->complete ? "the recording is complete" : "**the recording was cut off** (no end record)");
    fprintf(f, "| fact | value |\n|---|---:|\n");
    fprintf(f, "| events | %zu (%llu operations) |\n", t->count, (unsigned long long)an->ops);
    fprintf(f, "| bytes per event | %.2f (%llu bytes of events, file %llu bytes) |\n",
            t->count ? (double)t->payload_bytes / (double)t->count : 0, (unsigned long long)t->payload_bytes,
            (unsigned long long)t->file_bytes);
    fprintf(f, "| recorded time | %.3f s |\n", an->seconds);
    fprintf(f, "| threads | %u |\n", an->threads);
    fprintf(f, "| allocations (calloc, aligned) | %llu (%llu, %llu) |\n", (unsigned long long)an->allocs,
            (unsigned long long)an->callocs, (unsigned long long)an->aligned);
    fprintf(f, "| frees | %llu (+ %llu of blocks from before the recording) |\n", (unsigned long long)an->frees,
            (unsigned long long)an->unknown_frees);
    fprintf(f, "| reallocs (growing, shrinking) | %llu (%llu, %llu) |\n", (unsigned long long)(an->reallocs + an->resizes),
            (unsigned long long)an->realloc_grow, (unsigned long long)an->realloc_shrink);
    fprintf(f, "| failed requests | %llu |\n", (unsigned long long)an->failures);
    fprintf(f, "| peak live | %.1f KiB in %llu blocks |\n", (double)an->peak_live_bytes / 1024,
            (unsigned long long)an->peak_live_blocks);
    fprintf(f, "| bytes asked for | %.1f MiB |\n", (double)an->total_bytes / (1 << 20));
    fprintf(f, "| sizes | %llu distinct, largest %llu B, commonest %llu B (%.1f %%) |\n",
            (unsigned long long)an->distinct_sizes, (unsigned long long)an->max_size, (unsigned long long)an->top_size,
            pct(an->top_size_count, an->allocs));
    fprintf(f, "| LIFO frees | %.1f %% |\n", pct(an->lifo_frees, an->frees));
    fprintf(f, "| frees in phase-end batches | %.1f %% (%llu runs of >= %d) |\n", pct(an->batch_frees, an->frees),
            (unsigned long long)an->batches, BATCH_RUN);
    fprintf(f, "| cross-thread frees | %.1f %% |\n", pct(an->cross_thread_frees, an->frees));
    fprintf(f, "| blocks never freed | %llu |\n\n", (unsigned long long)an->never_freed);
    histogram_md(f, "size", "B", an->size_hist, an->allocs);
    histogram_md(f, "lifetime", "events", an->life_hist, an->frees);

    fprintf(f, "## Contenders (%s threads)\n\n", preserve ? "recorded" : "serial");
    fprintf(f, "| contender | ns/op | vs glibc | peak RSS | RSS / peak live | failures |\n|---|---:|---:|---:|---:|---:|\n");
    const entrant *glibc = find(es, n, "glibc");
    for (size_t i = 0; i < n; i++) {
        const entrant *e = &es[i];
        if (e->status != 0) continue;
        char vs[32] = "";
        if (glibc && ns_op(glibc) > 0) snprintf(vs, sizeof vs, "%.2fx", ns_op(e) / ns_op(glibc));
        fprintf(f, "| %s | %.1f | %s | %.1f MiB | %.2f | %llu |\n", e->name, ns_op(e), vs, e->r.rss_peak / (1 << 20),
                mem_ratio(e), (unsigned long long)e->r.failures);
    }
    fprintf(f, "\nCPU time is the child process's (user + system) over the whole replay; peak RSS is the growth of "
               "its resident set over the replay; peak live is the bytes the replay held at once.\n\n");
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const entrant *e = &es[i];
        if (e->status == 0) continue;
        if (!any) fprintf(f, "Left out or failed:\n\n");
        any = true;
        fprintf(f, "- **%s**: %s%s\n", e->name, e->status == 1 ? "FAILED: " : "", e->status == 1 ? e->detail : e->why);
    }
    if (any) fputc('\n', f);
    recommend(f, an, es, n);
    fclose(f);

    snprintf(file, sizeof file, "%s/replay.json", dir);
    f = fopen(file, "w");
    if (!f) return;
    fprintf(f, "{\n  \"trace\": ");
    json_str(f, base);
    fprintf(f, ",\n  \"program\": ");
    json_str(f, t->program);
    fprintf(f, ",\n  \"strategy\": ");
    json_str(f, t->strategy);
    fprintf(f, ",\n  \"complete\": %s, \"events\": %zu, \"payload_bytes\": %llu, \"threads\": %u,\n",
            t->complete ? "true" : "false", t->count, (unsigned long long)t->payload_bytes, an->threads);
    fprintf(f, "  \"analysis\": {\"ops\": %llu, \"allocs\": %llu, \"frees\": %llu, \"reallocs\": %llu, "
               "\"failures\": %llu, \"unknown_frees\": %llu, \"peak_live_bytes\": %llu, \"peak_live_blocks\": %llu, "
               "\"total_bytes\": %llu, \"max_size\": %llu, \"distinct_sizes\": %llu, \"lifo_share\": %.4f, "
               "\"batch_share\": %.4f, \"cross_thread_share\": %.4f, \"realloc_chains\": %llu, "
               "\"realloc_growth_median\": %.3f,\n    \"size_hist\": [",
            (unsigned long long)an->ops, (unsigned long long)an->allocs, (unsigned long long)an->frees,
            (unsigned long long)(an->reallocs + an->resizes), (unsigned long long)an->failures,
            (unsigned long long)an->unknown_frees, (unsigned long long)an->peak_live_bytes,
            (unsigned long long)an->peak_live_blocks, (unsigned long long)an->total_bytes,
            (unsigned long long)an->max_size, (unsigned long long)an->distinct_sizes,
            pct(an->lifo_frees, an->frees) / 100, pct(an->batch_frees, an->frees) / 100,
            pct(an->cross_thread_frees, an->frees) / 100, (unsigned long long)an->realloc_chains,
            an->realloc_growth_median);
    for (unsigned k = 0; k < HIST_BUCKETS; k++) fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)an->size_hist[k]);
    fprintf(f, "],\n    \"lifetime_hist\": [");
    for (unsigned k = 0; k < HIST_BUCKETS; k++) fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)an->life_hist[k]);
    fprintf(f, "]},\n  \"contenders\": [\n");
    for (size_t i = 0; i < n; i++) {
        const entrant *e = &es[i];
        fprintf(f, "    {\"name\": ");
        json_str(f, e->name);
        fprintf(f, ", \"status\": \"%s\"", e->status == 0 ? "ok" : e->status == 1 ? "failed" : "left out");
        if (e->status == 0)
            fprintf(f, ", \"ops\": %llu, \"cpu_ns\": %.0f, \"ns_per_op\": %.2f, \"rss_peak\": %.0f, \"live_peak\": %llu, "
                       "\"rss_per_live\": %.3f, \"failures\": %llu",
                    (unsigned long long)e->r.ops, e->r.cpu_ns, ns_op(e), e->r.rss_peak, (unsigned long long)e->r.live_peak,
                    mem_ratio(e), (unsigned long long)e->r.failures);
        else {
            fprintf(f, ", \"why\": ");
            json_str(f, e->status == 1 ? e->detail : e->why);
        }
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    fclose(f);
}

/* Two bar charts, time per operation and resident bytes per live byte, one bar
 * per contender that replayed: DIR/replay.svg through gnuplot (the benchmark
 * plots with it too), when it is installed. Returns whether the plot was made. */
static bool plot(const char *dir, const char *title, const entrant *es, size_t n)
{
    char dat[PATH_MAX], gp[PATH_MAX];
    snprintf(dat, sizeof dat, "%s/replay.dat", dir);
    snprintf(gp, sizeof gp, "%s/replay.gp", dir);
    FILE *f = fopen(dat, "w");
    if (!f) return false;
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        if (es[i].status == 0 && es[i].r.ops) {
            fprintf(f, "%s %.2f %.3f\n", es[i].name, ns_op(&es[i]), mem_ratio(&es[i]));
            rows++;
        }
    fclose(f);
    if (rows == 0) return false;
    f = fopen(gp, "w");
    if (!f) return false;
    fprintf(f, "set terminal svg size 1000,520 dynamic font 'sans,11'\n"
               "set output '%s/replay.svg'\n"
               "set multiplot layout 1,2 title 'replay of %s'\n"
               "set style fill solid 0.8 border -1\nset boxwidth 0.7\nset yrange [0:*]\n"
               "set xtics rotate by -45 scale 0 font ',9'\nset grid ytics\nunset key\n"
               "set title 'CPU time per operation (ns)'\n"
               "plot '%s' using 0:2:xtic(1) with boxes lc rgb '#4477aa'\n"
               "set title 'resident bytes per peak live byte'\n"
               "plot '%s' using 0:3:xtic(1) with boxes lc rgb '#cc6677'\n"
               "unset multiplot\n",
            dir, title, dat, dat);
    fclose(f);
    const char *argv[] = {"gnuplot", gp, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    int ws = 0;
    waitpid(pid, &ws, 0);
    return WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

/* --- main ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: alloc-replay TRACE [--contenders LIST] [--threads preserve|serial] [--out DIR]\n"
               "                    [--timeout SECONDS] [--list]\n"
               "       alloc-replay --check TRACE\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL, *only = NULL, *out = ".", *child = NULL;
    bool preserve = true, check = false, list = false;
    int timeout = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--contenders") == 0 && v) only = argv[++i];
        else if (strcmp(a, "--out") == 0 && v) out = argv[++i];
        else if (strcmp(a, "--timeout") == 0 && v) timeout = atoi(argv[++i]);
        else if (strcmp(a, "--child") == 0 && v) child = argv[++i];
        else if (strcmp(a, "--check") == 0) check = true;
        else if (strcmp(a, "--list") == 0) list = true;
        else if (strcmp(a, "--threads") == 0 && v) {
            const char *m = argv[++i];
            if (strcmp(m, "preserve") == 0) preserve = true;
            else if (strcmp(m, "serial") == 0) preserve = false;
            else {
                fprintf(stderr, "alloc-replay: --threads takes preserve or serial, not %s\n", m);
                return 2;
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "alloc-replay: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (!path) path = a;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (child) return run_child(child, path, preserve, timeout);

    loaded l;
    if (load(path, &l) != 0) return 2;
    analysis an;
    if (analyse(&l.t, &an) != 0) {
        fprintf(stderr, "alloc-replay: out of memory analysing the trace\n");
        return 2;
    }
    if (check) {
        printf("trace %s: program %s, pid %lld, %s, %zu events (%llu operations), %llu blocks, %u threads, "
               "%.2f bytes per event, peak live %llu bytes, %llu unknown frees, %llu dropped\n",
               path, l.t.program, (long long)l.t.pid, l.t.complete ? "complete" : "cut off (no end record)", l.t.count,
               (unsigned long long)an.ops, (unsigned long long)l.t.blocks, an.threads,
               l.t.count ? (double)l.t.payload_bytes / (double)l.t.count : 0, (unsigned long long)an.peak_live_bytes,
               (unsigned long long)an.unknown_frees, (unsigned long long)l.t.dropped);
        unload(&l);
        return 0;
    }
    static entrant es[64];
    size_t n = make_entrants(es, 64, &an, preserve, only);
    if (list) {
        for (size_t i = 0; i < n; i++)
            printf("%-24s %s\n", es[i].name, es[i].why[0] ? es[i].why : "replays");
        unload(&l);
        return 0;
    }
    if (n == 0) {
        fprintf(stderr, "alloc-replay: no contender matches --contenders %s (see --list)\n", only ? only : "");
        unload(&l);
        return 2;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) {
        fprintf(stderr, "alloc-replay: cannot find my own executable\n");
        return 2;
    }
    exe[k] = '\0';
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        entrant *e = &es[i];
        if (e->why[0]) {
            e->status = 2;
            continue;
        }
        fprintf(stderr, "alloc-replay: [%zu/%zu] %s\n", i + 1, n, e->name);
        run_entrant(e, exe, path, preserve, timeout);
        if (e->status == 1) {
            failed = 1;
            fprintf(stderr, "alloc-replay: %s FAILED: %s\n", e->name, e->detail);
        }
    }
    mkdir(out, 0755);
    write_report(out, path, &l.t, &an, es, n, preserve);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    bool plotted = plot(out, base, es, n);
    fprintf(stderr, "alloc-replay: wrote %s/replay.md, replay.json%s\n", out,
            plotted ? ", replay.svg" : " (no plot: gnuplot is not installed)");
    unload(&l);
    return failed;
}
