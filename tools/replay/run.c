/*
 * run.c: replaying a trace against one allocator.
 *
 * Every block of the trace has a slot (address, length, alignment) in an
 * array mapped from the OS, so the harness's own bookkeeping is not served by
 * the allocator under test and does not count in its resident memory (the
 * arrays come from bench_scratch, which the RSS measure leaves out). Each
 * allocation touches one byte per 4 KiB of its block, as the program that was
 * recorded would have written to it: without that, an allocator that maps
 * lazily would look free. calloc'd blocks are zeroed in full.
 *
 * Through a handle, free gets the block's len and align from the trace (the
 * handle contract); realloc is remap, else alloc + copy + free. Through malloc
 * the calls are the C library's own.
 *
 * Threads. Serial mode replays every event on one thread, in recorded order.
 * Preserve mode starts one thread per recorded thread, each replaying its own
 * events in order; an event on a block (free, realloc) first waits until
 * every earlier event on that block, possibly on another thread, is done.
 * The recorded order was one real execution, so the waits cannot form a
 * cycle, and a block is never used before it exists or after it is freed.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "replay.h"

typedef struct slot {
    void *p;
    size_t len;
    size_t align;
    atomic_uint done; /* events on this block completed (preserve mode) */
} slot;

typedef struct ctx {
    const alloc_trace *t;
    allocator a;
    bool handle;
    slot *slots;
    uint32_t *ordinal; /* per event: how many earlier events touched its block */
    atomic_uint_fast64_t failures;
    atomic_int_fast64_t live;
    atomic_int_fast64_t live_peak;
    size_t natural;
} ctx;

static double process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void touch(unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i += 4096) p[i] = (unsigned char)i;
    p[len - 1] = 1;
}

static void *do_alloc(ctx *c, size_t len, size_t align)
{
    if (c->handle) return c->a.vtable->alloc(c->a.ctx, len, align, 0);
    if (align <= c->natural) return malloc(len);
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, len) == 0 ? p : NULL;
}

static void do_free(ctx *c, slot *s)
{
    if (c->handle)
        c->a.vtable->free(c->a.ctx, s->p, s->len, s->align, 0);
    else
        free(s->p);
}

static void *do_realloc(ctx *c, slot *s, size_t new_len, bool in_place_first)
{
    if (!c->handle) return realloc(s->p, new_len);
    if (in_place_first && c->a.vtable->resize(c->a.ctx, s->p, s->len, s->align, new_len, 0)) return s->p;
    void *q = c->a.vtable->remap(c->a.ctx, s->p, s->len, s->align, new_len, 0);
    if (q) return q;
    q = c->a.vtable->alloc(c->a.ctx, new_len, s->align, 0);
    if (!q) return NULL;
    memcpy(q, s->p, s->len < new_len ? s->len : new_len);
    c->a.vtable->free(c->a.ctx, s->p, s->len, s->align, 0);
    return q;
}

static void add_live(ctx *c, int64_t d)
{
    int64_t now = atomic_fetch_add_explicit(&c->live, d, memory_order_relaxed) + d;
    int64_t peak = atomic_load_explicit(&c->live_peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak(&c->live_peak, &peak, now)) {
    }
}

/* Replays event i. */
static void step(ctx *c, size_t i)
{
    const alloc_trace_event *e = &c->t->events[i];
    slot *s = e->block == UINT32_MAX ? NULL : &c->slots[e->block];
    switch (e->op) {
    case ALLOC_TRACE_MALLOC:
    case ALLOC_TRACE_CALLOC:
    case ALLOC_TRACE_ALIGNED: {
        size_t len = e->size ? (size_t)e->size : 1;
        size_t align = e->align_log2 ? (size_t)1 << e->align_log2 : c->natural;
        void *p = do_alloc(c, len, align);
        s->p = p;
        s->len = len;
        s->align = align;
        if (!p) {
            atomic_fetch_add_explicit(&c->failures, 1, memory_order_relaxed);
            break;
        }
        if (e->op == ALLOC_TRACE_CALLOC)
            memset(p, 0, len);
        else
            touch(p, len);
        add_live(c, (int64_t)len);
        break;
    }
    case ALLOC_TRACE_FREE:
        if (s->p) {
            do_free(c, s);
            add_live(c, -(int64_t)s->len);
            s->p = NULL;
        }
        break;
    case ALLOC_TRACE_REALLOC:
    case ALLOC_TRACE_RESIZE:
        if (s->p) {
            size_t len = e->size ? (size_t)e->size : 1;
            void *q = do_realloc(c, s, len, e->op == ALLOC_TRACE_RESIZE);
            if (!q) {
                atomic_fetch_add_explicit(&c->failures, 1, memory_order_relaxed);
                break;
            }
            if (len > s->len) touch((unsigned char *)q + s->len, len - s->len);
            add_live(c, (int64_t)len - (int64_t)s->len);
            s->p = q;
            s->len = len;
        }
        break;
    default:
        break;
    }
    if (s) atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
}

typedef struct thread_arg {
    ctx *c;
    uint32_t thread;
} thread_arg;

static void *thread_main(void *arg)
{
    thread_arg *ta = (thread_arg *)arg;
    ctx *c = ta->c;
    for (size_t i = 0; i < c->t->count; i++) {
        const alloc_trace_event *e = &c->t->events[i];
        if (e->thread != ta->thread) continue;
        if (e->block != UINT32_MAX) {
            slot *s = &c->slots[e->block];
            unsigned spins = 0;
            while (atomic_load_explicit(&s->done, memory_order_acquire) != c->ordinal[i])
                if (++spins > 64) sched_yield();
        }
        step(c, i);
    }
    return NULL;
}

int replay_run(const alloc_trace *t, allocator a, bool preserve, bool progress, const char *label,
               replay_result *out)
{
    memset(out, 0, sizeof *out);
    ctx c = {.t = t, .a = a, .handle = a.vtable != NULL};
    c.natural = t->source == ALLOC_RECORD_HANDLE ? 1 : 16;
    size_t slot_bytes = (t->blocks ? t->blocks : 1) * sizeof(slot);
    size_t ord_bytes = (t->count ? t->count : 1) * sizeof(uint32_t);
    c.slots = (slot *)bench_scratch(slot_bytes);
    c.ordinal = preserve ? (uint32_t *)bench_scratch(ord_bytes) : NULL;
    if (!c.slots || (preserve && !c.ordinal)) {
        bench_scratch_free(c.slots, slot_bytes);
        bench_scratch_free(c.ordinal, ord_bytes);
        return -ENOMEM;
    }
    if (preserve) {
        /* done counts per block, used here as a scratch counter, then reset. */
        for (size_t i = 0; i < t->count; i++) {
            uint32_t b = t->events[i].block;
            if (b == UINT32_MAX) continue;
            c.ordinal[i] = atomic_load_explicit(&c.slots[b].done, memory_order_relaxed);
            atomic_store_explicit(&c.slots[b].done, c.ordinal[i] + 1, memory_order_relaxed);
        }
        for (size_t b = 0; b < t->blocks; b++) atomic_store_explicit(&c.slots[b].done, 0, memory_order_relaxed);
    }
    bench_rss_set_base();
    double rss_peak = 0, live_at_peak = 0;
    double t0 = process_cpu_ns();
    if (preserve && t->threads > 1) {
        pthread_t *th = (pthread_t *)bench_scratch(t->threads * sizeof(pthread_t));
        thread_arg *args = (thread_arg *)bench_scratch(t->threads * sizeof(thread_arg));
        if (!th || !args) return -ENOMEM;
        uint32_t started = 0;
        for (uint32_t k = 0; k < t->threads; k++) {
            args[k] = (thread_arg){&c, k};
            if (pthread_create(&th[k], NULL, thread_main, &args[k]) != 0) break;
            started++;
        }
        for (uint32_t k = 0; k < started; k++) pthread_join(th[k], NULL);
        bench_scratch_free(th, t->threads * sizeof(pthread_t));
        bench_scratch_free(args, t->threads * sizeof(thread_arg));
        if (started != t->threads) return -EAGAIN;
        rss_peak = bench_rss_growth();
        live_at_peak = (double)atomic_load(&c.live);
    } else {
        size_t tenth = t->count / 10 + 1;
        for (size_t i = 0; i < t->count; i++) {
            step(&c, i);
            if ((i & 4095) == 4095) {
                double r = bench_rss_growth();
                if (r > rss_peak) {
                    rss_peak = r;
                    live_at_peak = (double)atomic_load(&c.live);
                }
            }
            if (progress && i % tenth == tenth - 1)
                fprintf(stderr, "alloc-replay: %s: %zu %%\n", label, (i + 1) * 100 / t->count);
        }
        double r = bench_rss_growth();
        if (r > rss_peak) {
            rss_peak = r;
            live_at_peak = (double)atomic_load(&c.live);
        }
    }
    out->cpu_ns = process_cpu_ns() - t0;
    for (size_t i = 0; i < t->count; i++) {
        uint8_t op = t->events[i].op;
        out->ops += op != ALLOC_TRACE_FAIL && op != ALLOC_TRACE_FREE_UNKNOWN;
    }
    out->rss_peak = rss_peak;
    out->live_at_peak = live_at_peak;
    out->live_peak = (uint64_t)atomic_load(&c.live_peak);
    out->failures = atomic_load(&c.failures);
    /* Blocks the program never freed: give them back so the allocator's
     * invariant check and deinit see a clean state. */
    for (size_t b = 0; b < t->blocks; b++)
        if (c.slots[b].p) do_free(&c, &c.slots[b]);
    bench_scratch_free(c.slots, slot_bytes);
    bench_scratch_free(c.ordinal, ord_bytes);
    return 0;
}
