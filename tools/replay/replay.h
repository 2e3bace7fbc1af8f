/*
 * replay.h: the parts of alloc-replay (tools/replay) that its files share.
 *
 * alloc-replay reads a trace (alloc/record.h, docs/trace.md), describes it
 * (analysis.c), replays it against allocators (run.c: each contender in a
 * child process of its own, as alloc-bench runs its contenders), and writes
 * the report with a recommendation (main.c). The contenders are alloc-bench's
 * own rows (bench/contender_*.c, linked in): the strategies through their
 * handle, glibc, and the preloaded mallocs.
 */
#ifndef ALLOC_REPLAY_H
#define ALLOC_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/record.h"

#define HIST_BUCKETS 40

typedef struct analysis {
    uint64_t ops;            /* events replayed: allocations, frees, reallocs, resizes */
    uint64_t allocs, frees, reallocs, resizes, failures, unknown_frees, callocs, aligned;
    uint64_t total_bytes;    /* bytes asked for, counting realloc growth */
    uint64_t peak_live_bytes, peak_live_blocks;
    uint64_t max_size;
    uint64_t distinct_sizes;
    uint64_t top_size, top_size_count; /* the commonest size */
    unsigned max_align_log2;
    uint32_t threads;
    uint64_t size_hist[HIST_BUCKETS];     /* allocations by size: bucket k = [2^(k-1), 2^k) */
    uint64_t life_hist[HIST_BUCKETS];     /* freed blocks by lifetime in events, same buckets */
    uint64_t never_freed;                 /* blocks live at the end */
    uint64_t lifo_frees;                  /* frees of the newest live block */
    uint64_t batch_frees;                 /* frees in runs of >= BATCH_RUN frees with no allocation between */
    uint64_t batches;
    uint64_t cross_thread_frees;
    uint64_t realloc_grow, realloc_shrink, realloc_chains; /* blocks reallocated >= 4 times */
    double realloc_growth_median;         /* new / old size, over growing reallocs */
    double seconds;                       /* recorded duration */
} analysis;

#define BATCH_RUN 16

/* Fills *out from t. 0, or -ENOMEM. */
int analyse(const alloc_trace *t, analysis *out);

/* What a replay measured. */
typedef struct replay_result {
    uint64_t ops;
    double cpu_ns;           /* process CPU time (user + system) of the replay */
    double rss_peak;         /* bytes: resident set growth at its highest sample */
    double live_at_peak;     /* bytes live when the RSS peak was sampled */
    uint64_t live_peak;      /* bytes: the peak of live bytes during the replay */
    uint64_t failures;       /* allocations that returned NULL */
} replay_result;

/* Replays t through a handle (a.vtable != NULL) or through malloc (a.vtable
 * == NULL). preserve: one thread per recorded thread, each waiting for the
 * blocks it frees to exist; else everything on the calling thread in recorded
 * order. progress: print a line on stderr every 10 %. 0, or -ENOMEM. */
int replay_run(const alloc_trace *t, allocator a, bool preserve, bool progress, const char *label,
               replay_result *out);

#endif /* ALLOC_REPLAY_H */
