/*
 * bench.h: the pieces of alloc-bench that the workloads, the contenders and
 * the driver share.
 *
 * Vocabulary
 *   workload    one measured pattern of allocation (paired, lifo, batch-fifo,
 *               churn-4k, ...). Each has an id, a name, and a definition of
 *               "one operation" so results are reported as time per operation.
 *   contender   one allocator under test: a malloc (glibc, jemalloc, mimalloc,
 *               tcmalloc), an alloc handle (page, c, every strategy), or a
 *               strategy's inline fast path. A contender is one row
 *               (BENCH_CONTENDER) in a file of its family.
 *   impl        the workload bodies compiled against one set of operations
 *               (bench_ops). Mallocs get direct calls to malloc/free, handles
 *               go through the vtable, inline fast paths call the strategy's
 *               inline functions: the compiler sees constant function pointers
 *               and inlines them (BENCH_IMPL in workloads.h).
 *   sample      one timed run of one workload by one contender in a fresh
 *               allocator state; a result is the median of its samples.
 *
 * Process model: the driver runs every (contender, workload) pair in a child
 * process of its own (the same executable, re-executed with --child). Malloc
 * contenders other than glibc are the child run with LD_PRELOAD of their
 * shared library, so each malloc owns its whole process and RSS figures are
 * not polluted by another contender's caches.
 */
#ifndef ALLOC_BENCH_H
#define ALLOC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"

/* --- workloads ------------------------------------------------------------ *
 *
 * Adding a workload takes five lines in five places, all keyed by its enum
 * value (so two workloads added at once merge without renumbering anything):
 *   1. an enum value here, before WL_COUNT;
 *   2. its row in bench_workloads[] (util.c): name, operation, what it shows,
 *      its time budget and the unit of its progress;
 *   3. its sizes in bench_params (below) and bench_params_init (util.c);
 *   4. what it needs of a contender's state in need_of (main.c);
 *   5. its body in workloads.h and one line in BENCH_IMPL.
 * Contenders that serve any pattern join through WL_ALL; the others name
 * their workloads with WL_BIT.
 */

enum bench_workload {
    WL_PAIRED,        /* alloc + free of one 32 B block */
    WL_LIFO,          /* bursts of 1-256 blocks freed in reverse order */
    WL_BATCH_FIFO,    /* 1M blocks of 16-256 B, freed in allocation order */
    WL_BATCH_RANDOM,  /* the same, freed in random order */
    WL_BATCH_FREEALL, /* the same, released by reset where the contender has one */
    WL_CHURN_4K,      /* live set of 128Ki blocks, random replace, 16 B-4 KiB */
    WL_CHURN_64K,     /* the same with 16 B-64 KiB */
    WL_REALLOC_DOUBLE,/* one buffer 16 B -> 64 MiB by doubling */
    WL_REALLOC_STEP,  /* one buffer 16 B -> 64 MiB by +16 B */
    WL_PRODCONS,      /* one thread allocates 64 B blocks, another frees them */
    WL_LARGE,         /* 5-25 MiB blocks, at most 20 live */
    WL_LATENCY,       /* churn-4k, every operation timed on its own */
    WL_REALLOC_MANY,  /* 1,000 buffers grown +64 B each, interleaved, to 256 KiB */
    WL_PHASE,         /* 1 GiB of 64 B blocks, 1 GiB of 1-4 KiB, 4,096 x 256 KiB; each freed */
    WL_DRIFT,         /* 10 M operations, ~50 MB live, mean size drifting 32 B -> 32 KiB */
    WL_CHURN_100K,    /* 100k live blocks of 16 B-4 KiB, random replace; per-operation latency */
    WL_COUNT
};

#define WL_BIT(w) (1u << (w))
#define WL_ALL ((1u << WL_COUNT) - 1u)

typedef struct bench_workload_info {
    const char *name;
    const char *op;    /* what one operation is, for the report */
    const char *shows; /* what the workload shows */
    /* Wall seconds one sample may take before it stops and is reported as
     * over budget with how far it got (0: no budget; the child's --timeout
     * still applies). Multiplied by BENCH_VALGRIND_SLOWDOWN under valgrind. */
    double budget_s;
    /* Unit of bench_sample.progress/goal: "bytes" or "operations". */
    const char *progress_unit;
    /* Most samples per pair (0: --reps decides). The footprint workloads take
     * 2-25 s a sample and their memory figures repeat: one sample each keeps
     * the full run within minutes. */
    int max_reps;
    /* In the callgrind pass when it is given all workloads (a small set:
     * callgrind runs 50 times slower). Named workloads run there anyway. */
    bool callgrind;
    /* The pattern in a user's words, for the report's "which one" table
     * (NULL: the workload is not in that table). */
    const char *pattern;
} bench_workload_info;

/* How much slower a workload runs under callgrind: the factor applied to the
 * time budgets there, so a budget means the same amount of work. */
#define BENCH_VALGRIND_SLOWDOWN 30.0

extern const bench_workload_info bench_workloads[WL_COUNT];

/* Sizes of one run, derived from --scale (1.0 = the sizes of the issue). */
typedef struct bench_params {
    double scale;
    uint64_t seed;
    size_t paired_n;       /* pairs */
    size_t lifo_blocks;    /* blocks over all bursts */
    size_t batch_n;        /* blocks per batch */
    size_t churn_live;     /* live blocks in churn-4k and latency */
    size_t churn64_live;   /* live blocks in churn-64k (see util.c) */
    size_t churn_ops;      /* replacements after the fill */
    size_t realloc_max;    /* final size of the growing buffer (doubling) */
    size_t realloc_step_max; /* final size of the growing buffer (+16 B) */
    size_t realloc_rounds; /* growths per sample (doubling) */
    size_t prodcons_n;     /* blocks handed over */
    size_t large_n;        /* large allocations */
    size_t large_min, large_max;
    size_t large_live;
    size_t latency_ops;
    size_t rmany_n;        /* realloc-many: buffers */
    size_t rmany_max;      /* realloc-many: final size of each (grown by +64 B) */
    size_t phase_bytes;    /* phase: bytes requested in each of the first two phases */
    size_t phase_big_n;    /* phase: blocks of 256 KiB in the third */
    size_t drift_ops;      /* drift: allocations + frees */
    size_t drift_live;     /* drift: bytes kept live */
    size_t churn100k_live; /* churn-100k: live blocks (fit one 256 MiB heap) */
    size_t churn100k_ops;  /* churn-100k: replacements per pass */
    double decay_ns;       /* wait before sampling RSS after everything is freed (see workloads.h) */
    double budget_ns;      /* this workload's budget in wall time (set by the child from budget_s); 0 = none */
} bench_params;

void bench_params_init(bench_params *p, double scale, uint64_t seed);

/* churn-100k: passes that replay its replacements with every operation timed
 * (an operation's latency is its least time over them). */
#define WL_LAT_PASSES 3

/* --- what a workload asks of a contender's fresh state --------------------- */

typedef struct bench_need {
    size_t max_block;      /* largest single request */
    size_t max_live_bytes; /* bound on the requested bytes live at any time */
    size_t max_live_count; /* bound on the blocks live at any time */
    size_t total_bytes;    /* sum of every request in one sample (for no-reuse strategies) */
    size_t fixed_size;     /* nonzero: every request is exactly this many bytes */
    size_t align;          /* every request's alignment */
    bool threads;          /* blocks are freed on another thread than the one that allocated */
} bench_need;

/* --- one sample's measurements -------------------------------------------- */

typedef struct bench_sample {
    double ns;          /* wall time of the measured section */
    uint64_t ops;       /* operations in it (time per op = ns / ops) */
    double rss_peak;    /* bytes: resident set growth at the workload's peak (0 if not measured) */
    double live_peak;   /* bytes: requested bytes live at that moment */
    double rss_phase[3];/* phase: RSS growth right after each phase's frees */
    double rss_end;     /* phase, drift, realloc-many: RSS growth once everything is freed and
                         * the decay delay has passed (0 if not measured) */
    /* Over budget (the body returned -ETIMEDOUT): ns and ops cover the work
     * done until it stopped; progress of goal says how far it got, in the
     * workload's progress_unit. */
    double progress, goal;
    double lat[4];      /* latency only: p50, p99, p99.9, max (ns) */
    double timer_ns;    /* latency only: cost of one empty timed interval */
    uint64_t checksum;  /* data read back from blocks: proves the writes happened */
} bench_sample;

/* --- the operations a workload is compiled against ------------------------ */

typedef struct bench_ops {
    void *(*alloc)(void *st, size_t len, size_t align);
    void (*free)(void *st, void *p, size_t len, size_t align);
    /* Grows or shrinks p, keeping contents; NULL on failure (p still valid). */
    void *(*realloc)(void *st, void *p, size_t len, size_t new_len, size_t align);
    /* Releases every block at once; false when the contender cannot. */
    bool (*reset)(void *st);
} bench_ops;

/* The workload bodies compiled against one bench_ops (see BENCH_IMPL). */
typedef int (*bench_workload_fn)(void *st, const bench_params *p, bench_sample *out);
typedef struct bench_impl {
    const char *name;
    bool (*reset)(void *st); /* ops->reset: between samples, untimed */
    bench_workload_fn run[WL_COUNT];
} bench_impl;

/* --- contenders ------------------------------------------------------------ */

enum {
    /* Blocks may be freed on another thread (mallocs, locked wrappers, page). */
    BENCH_THREAD_SAFE = 1u << 0,
    /* Reported as a reference line, not a competitor (the transport baseline). */
    BENCH_BASELINE = 1u << 1,
    /* Runs in the plain process (strategies, handles, glibc); otherwise the
     * child is preloaded with the contender's library. */
    BENCH_MALLOC = 1u << 2,
};

typedef struct bench_contender {
    const char *name;    /* command-line name: lower case, no spaces */
    const char *family;  /* "malloc", "handle", "inline", "baseline" */
    const char *what;    /* one line for the report */
    const char *preload; /* shared library to LD_PRELOAD (malloc contenders) or NULL */
    const char *symbol;  /* a symbol only that malloc exports: proves the preload took */
    unsigned flags;
    unsigned workloads;  /* WL_BIT mask of the workloads it joins */
    const bench_impl *impl;
    /* Makes the state the samples of one child run on (NULL is fine for
     * stateless contenders): created once, reset between samples where the
     * contender has a reset, destroyed after the last, so every contender
     * runs warm after the first sample, as a malloc does. Returns 0, or an
     * error with *why set when the contender cannot meet the need (the pair
     * is then reported as skipped). */
    int (*create)(const bench_need *need, void **state, const char **why);
    void (*destroy)(void *state);
    /* Invariant check after every sample (the smoke test relies on it). */
    bool (*check)(void *state);
} bench_contender;

void bench_register(const bench_contender *c);
size_t bench_contender_count(void);
const bench_contender *bench_contender_at(size_t i);       /* sorted by name */
const bench_contender *bench_contender_find(const char *name);

/* Defines and registers a contender at load time. */
#define BENCH_CONTENDER(ident, ...)                                           \
    static const bench_contender ident = __VA_ARGS__;                         \
    __attribute__((constructor)) static void bench_register_##ident(void)     \
    {                                                                         \
        bench_register(&ident);                                               \
    }

/* The state of every handle contender starts with this: the handle the
 * workloads call through, and how to reset it (NULL: no reset). */
typedef struct bench_handle {
    allocator a;
    bool (*reset)(struct bench_handle *h);
} bench_handle;


/* Free, realloc and reset through the handle, for inline impls whose fast
 * path covers only some operations (inline here, so workloads inline them). */
static inline void bench_handle_free(void *st, void *p, size_t len, size_t align)
{
    alloc_free(((bench_handle *)st)->a, p, len, align);
}

static inline void *bench_handle_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    return alloc_realloc(((bench_handle *)st)->a, p, len, align, new_len);
}

static inline bool bench_handle_reset(void *st)
{
    bench_handle *h = (bench_handle *)st;
    return h->reset ? h->reset(h) : false;
}

extern const bench_impl bench_impl_handle;
extern const bench_impl bench_impl_malloc;

/* --- utilities (util.c) ---------------------------------------------------- */

/* The clock of the measured sections: the calling thread's CPU time (user +
 * system, so page faults count) when bench_cpu_clock is true, the default,
 * else wall time. CPU time is what an allocator costs; on a shared machine it
 * is also far steadier than wall time, which counts time spent descheduled.
 * The two-thread workload always uses wall time (bench_wall_ns). */
extern bool bench_cpu_clock;
double bench_now_ns(void);
double bench_wall_ns(void);
/* Resident set size of the process, bytes (from /proc/self/statm). */
double bench_rss_bytes(void);
/* RSS growth since bench_rss_set_base (called once per child, before the
 * first sample), not counting the harness's scratch arrays. Measured from the
 * start of the process rather than of each sample, so memory an allocator
 * keeps cached from an earlier sample still counts against it. */
void bench_rss_set_base(void);
double bench_rss_growth(void);

/* splitmix64-seeded xoshiro256** */
typedef struct bench_rng {
    uint64_t s[4];
} bench_rng;
void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [lo, hi] (inclusive), lo <= hi. */
size_t bench_rng_range(bench_rng *r, size_t lo, size_t hi);

/* Scratch arrays the harness itself needs (pointer tables, size tables):
 * mapped straight from the OS and pre-touched, so they stay out of every
 * contender's heap and out of the RSS growth measured. NULL on failure. */
void *bench_scratch(size_t bytes);
void bench_scratch_free(void *p, size_t bytes);

/* True when running under valgrind (the callgrind pass). */
bool bench_under_valgrind(void);
/* Sleeps p->decay_ns (wall time; the CPU clock does not advance). */
void bench_decay_wait(const bench_params *p);

/* Callgrind client requests around measured sections (no-ops outside valgrind). */
void bench_measure_begin(void);
void bench_measure_end(void);

#endif /* ALLOC_BENCH_H */
