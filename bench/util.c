/*
 * util.c: what the workloads share that is not measured: sizes of a run,
 * clocks, RSS, the random tables, scratch memory from the OS, the
 * producer/consumer ring, and the contender registry.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif

#include "bench.h"
#include "workloads.h"

/* One row per workload, keyed by its enum value. Budgets: an allocator that
 * copies the whole block on every realloc makes growth quadratic; 5 s is 40x
 * what glibc needs for realloc-step, 60 s about 3x glibc's realloc-many
 * (an mremap per call past its mmap threshold). */
#define WL_ROW(id, nm, one_op, what, pat) [id] = {.name = nm, .op = one_op, .shows = what, .pattern = pat, .progress_unit = "operations"}
/* The same, and in the callgrind pass's default set. */
#define WL_ROW_CG(id, nm, one_op, what, pat)                                                                        \
    [id] = {.name = nm, .op = one_op, .shows = what, .pattern = pat, .progress_unit = "operations", .callgrind = true}
const bench_workload_info bench_workloads[WL_COUNT] = {
    WL_ROW_CG(WL_PAIRED, "paired", "alloc+free of 32 B", "fast path and call cost", "one short-lived block at a time"),
    WL_ROW_CG(WL_LIFO, "lifo", "block (alloc+free)", "bursts of 1-256 blocks of 16-256 B freed newest first",
           "blocks freed newest first (scopes, recursion)"),
    WL_ROW(WL_BATCH_FIFO, "batch-fifo", "block (alloc+free)", "1M blocks of 16-256 B, freed oldest first",
           "many small blocks freed oldest first (queues)"),
    WL_ROW(WL_BATCH_RANDOM, "batch-random", "block (alloc+free)", "1M blocks of 16-256 B, freed in random order",
           "many small blocks freed in any order"),
    WL_ROW_CG(WL_BATCH_FREEALL, "batch-freeall", "block (alloc+free)",
           "1M blocks of 16-256 B, released by one reset (FIFO frees without one)",
           "many blocks dropped together (per request, per frame)"),
    WL_ROW_CG(WL_CHURN_4K, "churn-4k", "replacement (free+alloc)", "128Ki live blocks of 16 B-4 KiB, random replace",
           "a long-running mix of sizes up to 4 KiB"),
    WL_ROW(WL_CHURN_64K, "churn-64k", "replacement (free+alloc)", "16Ki live blocks of 16 B-64 KiB, random replace",
           "a long-running mix of sizes up to 64 KiB"),
    [WL_REALLOC_DOUBLE] = {.name = "realloc-double", .op = "realloc call", .shows = "one buffer 16 B -> 64 MiB, doubling",
                           .pattern = "one buffer grown by doubling", .budget_s = 5, .progress_unit = "bytes",
                           .callgrind = true},
    [WL_REALLOC_STEP] = {.name = "realloc-step", .op = "realloc call", .shows = "one buffer 16 B -> 16 MiB, +16 B per call",
                         .pattern = "one buffer grown a little at a time", .budget_s = 5, .progress_unit = "bytes",
                         .callgrind = true},
    WL_ROW(WL_PRODCONS, "prodcons", "block handed over", "one thread allocates 64 B blocks, another frees them",
           "blocks freed by another thread"),
    WL_ROW_CG(WL_LARGE, "large", "alloc+free (pages touched)", "5-25 MiB blocks, at most 20 live", "blocks of several MiB"),
    WL_ROW(WL_LATENCY, "latency", "single alloc or free", "churn-4k with every operation timed", NULL),
    [WL_REALLOC_MANY] = {.name = "realloc-many", .op = "realloc call",
                         .shows = "1,000 buffers grown by +64 B each, interleaved, to 256 KiB; RSS after all is freed",
                         .pattern = "many buffers growing at once", .budget_s = 60, .progress_unit = "bytes",
                         .max_reps = 1},
    [WL_PHASE] = {.name = "phase", .op = "block (alloc+free)",
                  .shows = "1 GiB of 64 B blocks freed, then 1 GiB of 1-4 KiB freed, then 4,096 x 256 KiB freed; RSS "
                           "after each",
                  .pattern = "block sizes that change in phases", .budget_s = 60, .progress_unit = "bytes",
                  .max_reps = 1},
    [WL_DRIFT] = {.name = "drift", .op = "alloc or free",
                  .shows = "10 M operations, ~50 MB live, mean size drifting 32 B -> 32 KiB",
                  .pattern = "a size mix that drifts over time (servers)", .budget_s = 60,
                  .progress_unit = "operations", .max_reps = 1},
    WL_ROW(WL_CHURN_100K, "churn-100k", "replacement (free+alloc)",
           "100k live blocks of 16 B-4 KiB, 5 M random replacements; each alloc and free timed in 3 more passes",
           NULL),
};

static size_t scaled(size_t full, double scale, size_t min)
{
    double v = (double)full * scale;
    size_t n = v < 1.0 ? 0 : (size_t)v;
    return n < min ? min : n;
}

void bench_params_init(bench_params *p, double scale, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->scale = scale;
    p->seed = seed;
    p->paired_n = scaled(10000000, scale, 1000);
    p->lifo_blocks = scaled(4000000, scale, 1000);
    p->batch_n = scaled(1000000, scale, 100);
    p->churn_live = scaled(131072, scale, 64);
    /* 128Ki live blocks of up to 64 KiB would be 4 GiB live, faulted in
     * page by page: a minute per contender. churn-64k keeps 16Ki (512 MiB
     * live, still far beyond every cache) so the default run stays short. */
    p->churn64_live = scaled(16384, scale, 64);
    p->churn_ops = scaled(500000, scale, 200);
    p->latency_ops = scaled(200000, scale, 200);
    /* Sizes shrink with the scale too (down to a floor that still crosses
     * the mallocs' mmap thresholds), so a smoke run stays small. */
    size_t rmax = scaled((size_t)64 << 20, scale, (size_t)256 << 10);
    p->realloc_max = 16;
    while (p->realloc_max < rmax) p->realloc_max *= 2;
    p->realloc_rounds = 2;
    /* +16 B steps to 64 MiB would be 4M realloc calls, seconds per sample
     * for the mallocs that copy; 16 MiB (1M calls) shows the same growth. */
    p->realloc_step_max = p->realloc_max / 4 < 65536 ? p->realloc_max : p->realloc_max / 4;
    p->prodcons_n = scaled(1000000, scale, 1000);
    p->budget_ns = 0; /* the child sets the workload's own */
    p->large_live = 20;
    /* Two turns of the 20-block live set: each allocation faults in 5-25
     * MiB unless the allocator reuses memory, which is what this shows. */
    p->large_n = scaled(40, scale, 30);
    p->large_min = scaled((size_t)5 << 20, scale, (size_t)128 << 10);
    p->large_max = scaled((size_t)25 << 20, scale, (size_t)640 << 10);
    /* realloc-many keeps its 256 KiB buffers down to scale 0.1 (they cross
     * the mallocs' mmap thresholds, which is the point) and only has fewer
     * of them; below that the buffers shrink too (16 KiB in the smoke test,
     * which memcheck runs: its realloc always copies). */
    p->rmany_n = scaled(1000, scale, 16);
    p->rmany_max = scaled((size_t)256 << 10, scale * 10, (size_t)16 << 10);
    if (p->rmany_max > ((size_t)256 << 10)) p->rmany_max = (size_t)256 << 10;
    p->rmany_max &= ~(size_t)63;
    /* phase: 1 GiB is 16 Mi blocks of 64 B; the floor keeps a quick run's
     * phases past a page heap's first span. */
    p->phase_bytes = scaled((size_t)1 << 30, scale, (size_t)1 << 20);
    p->phase_big_n = scaled(4096, scale, 4);
    p->drift_ops = scaled(10000000, scale, 20000);
    p->drift_live = scaled(50000000, scale, (size_t)1 << 20);
    /* The shape O(1) heaps are compared in: about 200 MiB live, so a heap
     * fixed in one 256 MiB buffer serves it. */
    p->churn100k_live = scaled(100000, scale, 64);
    p->churn100k_ops = scaled(5000000, scale, 200);
    /* 1 s: after it mimalloc (purge delay 10 ms) and an allocator with
     * jemalloc-like decay have had time to act; quick runs wait 10 ms so the
     * path is exercised without slowing the smoke test. */
    p->decay_ns = scale >= 0.1 ? 1e9 : 1e7;
}

bool bench_under_valgrind(void)
{
#if defined(BENCH_HAVE_CALLGRIND)
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

void bench_decay_wait(const bench_params *p)
{
    struct timespec ts = {(time_t)(p->decay_ns / 1e9), (long)((long long)p->decay_ns % 1000000000LL)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* --- clocks ------------------------------------------------------------------ */

double bench_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

bool bench_cpu_clock = true;

double bench_now_ns(void)
{
    if (!bench_cpu_clock) return bench_wall_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

uint64_t wl_ticks(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_ia32_rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

double wl_ticks_per_ns(void)
{
    static double cached;
    if (cached > 0) return cached;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* Calibrate the time-stamp counter against the monotonic clock over 20 ms. */
    double n0 = bench_wall_ns();
    uint64_t c0 = wl_ticks();
    while (bench_wall_ns() - n0 < 20e6) {
    }
    double n1 = bench_wall_ns();
    uint64_t c1 = wl_ticks();
    cached = (double)(c1 - c0) / (n1 - n0);
#else
    cached = 1.0;
#endif
    return cached;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void wl_latency_summary(uint32_t *ticks, size_t n, bench_sample *out)
{
    if (n == 0) return;
    double tpn = wl_ticks_per_ns();
    qsort(ticks, n, sizeof ticks[0], compare_u32);
    const double q[3] = {0.50, 0.99, 0.999};
    for (int i = 0; i < 3; i++) {
        size_t k = (size_t)(q[i] * (double)(n - 1));
        out->lat[i] = ticks[k] / tpn;
    }
    out->lat[3] = ticks[n - 1] / tpn;
    /* The cost of the timing itself: the median of empty intervals. */
    uint32_t empty[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t a = wl_ticks();
        uint64_t b = wl_ticks();
        empty[i] = (uint32_t)(b - a);
    }
    qsort(empty, 1001, sizeof empty[0], compare_u32);
    out->timer_ns = empty[500] / tpn;
}

/* --- memory of the process ----------------------------------------------------- */

double bench_rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char *end;
    (void)strtoull(buf, &end, 10); /* total program size */
    unsigned long long resident = strtoull(end, NULL, 10);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* Scratch bytes mapped now (all resident: MAP_POPULATE). Only the thread
 * that runs the workload maps scratch, so no atomics. */
static double scratch_resident;
static double rss_base;

void *bench_scratch(size_t bytes)
{
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    scratch_resident += (double)((bytes + page - 1) / page * page);
    return p;
}

void bench_scratch_free(void *p, size_t bytes)
{
    if (!p) return;
    if (bytes == 0) bytes = 1;
    munmap(p, bytes);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    scratch_resident -= (double)((bytes + page - 1) / page * page);
}

void bench_rss_set_base(void) { rss_base = bench_rss_bytes() - scratch_resident; }

double bench_rss_growth(void) { return bench_rss_bytes() - scratch_resident - rss_base; }

void bench_measure_begin(void)
{
#if defined(BENCH_HAVE_CALLGRIND)
    CALLGRIND_TOGGLE_COLLECT;
#endif
}

void bench_measure_end(void)
{
#if defined(BENCH_HAVE_CALLGRIND)
    CALLGRIND_TOGGLE_COLLECT;
#endif
}

/* --- random numbers and tables ------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void bench_rng_seed(bench_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

size_t bench_rng_range(bench_rng *r, size_t lo, size_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    /* Modulo bias is below 2^-40 for the spans used here. */
    return lo + (size_t)(span == 0 ? bench_rng_next(r) : bench_rng_next(r) % span);
}

int wl_tables_make(wl_tables *t, uint64_t seed, size_t lo, size_t hi, size_t count_lo, size_t count_hi)
{
    bench_rng r;
    bench_rng_seed(&r, seed);
    t->sizes = (uint32_t *)bench_scratch(WL_TABLE * sizeof(uint32_t));
    t->counts = (uint32_t *)bench_scratch(WL_TABLE * sizeof(uint32_t));
    if (!t->sizes || !t->counts) {
        wl_tables_free(t);
        return -ENOMEM;
    }
    for (size_t i = 0; i < WL_TABLE; i++) {
        t->sizes[i] = (uint32_t)bench_rng_range(&r, lo, hi);
        t->counts[i] = (uint32_t)bench_rng_range(&r, count_lo, count_hi);
    }
    return 0;
}

void wl_tables_free(wl_tables *t)
{
    bench_scratch_free(t->sizes, WL_TABLE * sizeof(uint32_t));
    bench_scratch_free(t->counts, WL_TABLE * sizeof(uint32_t));
    t->sizes = t->counts = NULL;
}

uint32_t *wl_permutation(size_t n, uint64_t seed)
{
    uint32_t *p = (uint32_t *)bench_scratch(n * sizeof(uint32_t));
    if (!p) return NULL;
    bench_rng r;
    bench_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = bench_rng_range(&r, 0, i - 1);
        uint32_t tmp = p[i - 1];
        p[i - 1] = p[j];
        p[j] = tmp;
    }
    return p;
}

uint32_t *wl_indices(size_t n, size_t bound, uint64_t seed)
{
    uint32_t *p = (uint32_t *)bench_scratch(n * sizeof(uint32_t));
    if (!p) return NULL;
    bench_rng r;
    bench_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (uint32_t)bench_rng_range(&r, 0, bound - 1);
    return p;
}

/* --- producer/consumer ------------------------------------------------------------ */

static void spin_pause(unsigned *spins)
{
    /* Two threads on two cores spin; if the cores are shared, yield. */
    if (++*spins > 256) {
        sched_yield();
        *spins = 0;
    } else {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

void wl_ring_push(wl_ring *r, void *p)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    unsigned spins = 0;
    while (head - atomic_load_explicit(&r->tail, memory_order_acquire) >= WL_RING) spin_pause(&spins);
    r->slot[head & (WL_RING - 1)] = p;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

void *wl_ring_pop(wl_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    unsigned spins = 0;
    while (atomic_load_explicit(&r->head, memory_order_acquire) == tail) spin_pause(&spins);
    void *p = r->slot[tail & (WL_RING - 1)];
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return p;
}

int wl_prodcons_run(void *(*producer)(void *), void *(*consumer)(void *), void *st, size_t n,
                    bench_sample *out)
{
    wl_ring *ring = (wl_ring *)bench_scratch(sizeof(wl_ring));
    if (!ring) return -ENOMEM;
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    atomic_init(&ring->failed, 0);
    wl_prodcons_arg arg = {ring, st, n, 0};
    pthread_t prod, cons;
    bench_measure_begin();
    /* Two threads: the waiting main thread's CPU time says nothing; wall time. */
    double t0 = bench_wall_ns();
    if (pthread_create(&cons, NULL, consumer, &arg) != 0) {
        bench_measure_end();
        bench_scratch_free(ring, sizeof(wl_ring));
        return -EAGAIN;
    }
    if (pthread_create(&prod, NULL, producer, &arg) != 0) {
        /* Unblock the consumer with a NULL block (it stops on NULL). */
        wl_ring_push(ring, NULL);
        pthread_join(cons, NULL);
        bench_measure_end();
        bench_scratch_free(ring, sizeof(wl_ring));
        return -EAGAIN;
    }
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    double t1 = bench_wall_ns();
    bench_measure_end();
    int failed = atomic_load(&ring->failed);
    bench_scratch_free(ring, sizeof(wl_ring));
    out->ns = t1 - t0;
    out->ops = n;
    out->checksum = arg.sum;
    return failed == 1 ? -ENOMEM : failed == 2 ? -EFAULT : 0;
}

/* --- the contender registry ------------------------------------------------------- */

#define BENCH_MAX_CONTENDERS 64
static const bench_contender *registry[BENCH_MAX_CONTENDERS];
static size_t registry_count;
static bool registry_sorted;

void bench_register(const bench_contender *c)
{
    if (registry_count < BENCH_MAX_CONTENDERS) registry[registry_count++] = c;
    registry_sorted = false;
}

static int compare_contenders(const void *a, const void *b)
{
    return strcmp((*(const bench_contender *const *)a)->name, (*(const bench_contender *const *)b)->name);
}

static void sort_registry(void)
{
    if (registry_sorted) return;
    qsort(registry, registry_count, sizeof registry[0], compare_contenders);
    registry_sorted = true;
}

size_t bench_contender_count(void) { return registry_count; }

const bench_contender *bench_contender_at(size_t i)
{
    sort_registry();
    return i < registry_count ? registry[i] : NULL;
}

const bench_contender *bench_contender_find(const char *name)
{
    for (size_t i = 0; i < registry_count; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}
