/*
 * analysis.c: what a trace says about its program's allocations, the facts
 * the recommendation is built from.
 *
 * One pass in recorded order with a table per block (size, thread, birth,
 * realloc count) and a stack of live blocks in allocation order:
 *   - LIFO share: a free is in LIFO order when its block is the newest block
 *     still live, what a stack allocator (or a bump allocator's free) needs;
 *     the stack drops freed blocks lazily, so the pass stays O(n) amortised.
 *   - phase-end batches: runs of at least BATCH_RUN frees with no allocation
 *     between them, the shape of a request or phase ending and releasing its
 *     objects together: what an arena reset would do in one step.
 *   - cross-thread frees: freed on another thread than the one that
 *     allocated (a hand-off; needs a thread-safe allocator).
 *   - lifetimes in events (the number of calls between allocation and free),
 *     which is independent of the recording machine's speed.
 * Everything is O(events + blocks) time and memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

static unsigned bucket(uint64_t v)
{
    unsigned k = 0;
    while (v && k < HIST_BUCKETS - 1) {
        v >>= 1;
        k++;
    }
    return k;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct block_info {
    uint64_t size;
    uint64_t birth;
    uint32_t thread;
    uint32_t reallocs;
    bool live;
} block_info;

int analyse(const alloc_trace *t, analysis *out)
{
    memset(out, 0, sizeof *out);
    out->threads = t->threads;
    size_t nb = t->blocks ? t->blocks : 1;
    block_info *b = calloc(nb, sizeof *b);
    uint32_t *stack = malloc(nb * sizeof *stack);
    uint64_t *sizes = malloc(nb * sizeof *sizes);
    double *growth = malloc((t->count + 1) * sizeof *growth);
    if (!b || !stack || !sizes || !growth) {
        free(b), free(stack), free(sizes), free(growth);
        return -ENOMEM;
    }
    size_t top = 0, nsizes = 0, ngrowth = 0;
    uint64_t live = 0, live_blocks = 0, run = 0;
    for (size_t i = 0; i < t->count; i++) {
        const alloc_trace_event *e = &t->events[i];
        bool is_free = false;
        switch (e->op) {
        case ALLOC_TRACE_MALLOC:
        case ALLOC_TRACE_CALLOC:
        case ALLOC_TRACE_ALIGNED: {
            block_info *x = &b[e->block];
            *x = (block_info){e->size, e->seq, e->thread, 0, true};
            stack[top++] = e->block;
            sizes[nsizes++] = e->size;
            out->allocs++;
            out->callocs += e->op == ALLOC_TRACE_CALLOC;
            out->aligned += e->op == ALLOC_TRACE_ALIGNED;
            out->total_bytes += e->size;
            if (e->size > out->max_size) out->max_size = e->size;
            if (e->align_log2 > out->max_align_log2) out->max_align_log2 = e->align_log2;
            out->size_hist[bucket(e->size)]++;
            live += e->size;
            live_blocks++;
            break;
        }
        case ALLOC_TRACE_FREE: {
            block_info *x = &b[e->block];
            is_free = true;
            out->frees++;
            while (top && !b[stack[top - 1]].live) top--;
            if (top && stack[top - 1] == e->block) {
                out->lifo_frees++;
                top--;
            }
            x->live = false;
            live -= x->size;
            live_blocks--;
            if (e->thread != x->thread) out->cross_thread_frees++;
            out->life_hist[bucket(e->seq - x->birth)]++;
            break;
        }
        case ALLOC_TRACE_REALLOC:
        case ALLOC_TRACE_RESIZE: {
            block_info *x = &b[e->block];
            if (e->op == ALLOC_TRACE_REALLOC)
                out->reallocs++;
            else
                out->resizes++;
            if (e->size > x->size) {
                out->realloc_grow++;
                out->total_bytes += e->size - x->size;
                if (x->size) growth[ngrowth++] = (double)e->size / (double)x->size;
            } else if (e->size < x->size) {
                out->realloc_shrink++;
            }
            if (++x->reallocs == 4) out->realloc_chains++;
            live = live - x->size + e->size;
            x->size = e->size;
            if (e->size > out->max_size) out->max_size = e->size;
            break;
        }
        case ALLOC_TRACE_FAIL:
            out->failures++;
            break;
        case ALLOC_TRACE_FREE_UNKNOWN:
            out->unknown_frees++;
            break;
        default:
            break;
        }
        if (e->op != ALLOC_TRACE_FAIL && e->op != ALLOC_TRACE_FREE_UNKNOWN) out->ops++;
        if (is_free) {
            run++;
        } else if (e->op != ALLOC_TRACE_FREE_UNKNOWN) {
            if (run >= BATCH_RUN) {
                out->batch_frees += run;
                out->batches++;
            }
            run = 0;
        }
        if (live > out->peak_live_bytes) out->peak_live_bytes = live;
        if (live_blocks > out->peak_live_blocks) out->peak_live_blocks = live_blocks;
    }
    if (run >= BATCH_RUN) {
        out->batch_frees += run;
        out->batches++;
    }
    out->never_freed = live_blocks;
    qsort(sizes, nsizes, sizeof *sizes, cmp_u64);
    for (size_t i = 0, j; i < nsizes; i = j) {
        for (j = i; j < nsizes && sizes[j] == sizes[i]; j++) {
        }
        out->distinct_sizes++;
        if (j - i > out->top_size_count) {
            out->top_size_count = j - i;
            out->top_size = sizes[i];
        }
    }
    if (ngrowth) {
        qsort(growth, ngrowth, sizeof *growth, cmp_double);
        out->realloc_growth_median = growth[ngrowth / 2];
    }
    if (t->count) out->seconds = (double)t->events[t->count - 1].time_ns / 1e9;
    free(b), free(stack), free(sizes), free(growth);
    return 0;
}
