/*
 * workloads.h: the workload bodies, written once against a bench_ops and
 * compiled once per impl (BENCH_IMPL at the bottom).
 *
 * Every body is always_inline and takes `ops` as a pointer to a static const
 * bench_ops, so in each instantiation the compiler sees constant function
 * pointers and calls malloc, a vtable entry or a strategy's inline fast path
 * directly: the measured cost is the allocator's, not an extra indirect call
 * added by the harness. (A handle impl still makes the vtable call: that call
 * is what "through the handle" means.)
 *
 * What every body does the same way:
 *   - random sizes, orders and burst lengths come from tables filled before
 *     the clock starts, so the random number generator is not measured;
 *   - every block is written where a real program would (a tag word at the
 *     start, one byte in every 4 KiB page, the last byte) and the tag is read
 *     back before the block is freed: an allocator cannot win by handing out
 *     memory nobody touches, a harness bug that overlaps two blocks shows up
 *     as a wrong tag, and the compiler cannot delete an allocation;
 *   - the clock (and, under callgrind, instruction collection) covers only the
 *     allocator calls and those writes, never table setup or RSS sampling.
 */
#ifndef ALLOC_BENCH_WORKLOADS_H
#define ALLOC_BENCH_WORKLOADS_H

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "bench.h"

#define WL_INLINE static inline __attribute__((always_inline))

/* Keeps the compiler from proving a block dead (and deleting malloc/free pairs). */
#define WL_ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

/* Sizes of the cyclic random tables (powers of two). */
#define WL_TABLE 65536u

/* --- block writes ---------------------------------------------------------- */

/* Tag of block i: never zero, differs between neighbours. */
WL_INLINE uint64_t wl_tag(size_t i) { return ((uint64_t)i * 0x9E3779B97F4A7C15ull) | 1u; }

/* Writes the tag word and one byte per page. len >= 8. */
WL_INLINE void wl_touch(void *p, size_t len, uint64_t tag)
{
    unsigned char *b = (unsigned char *)p;
    /* Launder the pointer: the front door's zero-length branch returns a
     * constant sentinel, and without this GCC warns about writing to it on a
     * path the workloads never take (every length here is >= 16). */
    __asm__("" : "+r"(b));
    memcpy(b, &tag, sizeof tag);
    for (size_t off = 4096; off < len; off += 4096) b[off] = (unsigned char)tag;
    b[len - 1] = (unsigned char)tag;
}

/* Reads the tag back; false if another block overwrote it. */
WL_INLINE bool wl_verify(const void *p, uint64_t tag, uint64_t *sum)
{
    uint64_t t;
    memcpy(&t, p, sizeof t);
    *sum += t;
    return t == tag;
}

/* True once the sample has used its wall-time budget (checked every few
 * thousand operations, so the check costs nothing measurable). */
WL_INLINE bool wl_over_budget(const bench_params *p, double wall0)
{
    return p->budget_ns > 0 && bench_wall_ns() - wall0 > p->budget_ns;
}

/* --- tables (built before the clock starts) -------------------------------- */

typedef struct wl_tables {
    uint32_t *sizes;  /* WL_TABLE sizes */
    uint32_t *counts; /* WL_TABLE burst lengths */
} wl_tables;

int wl_tables_make(wl_tables *t, uint64_t seed, size_t lo, size_t hi, size_t count_lo, size_t count_hi);
void wl_tables_free(wl_tables *t);
/* A random permutation of 0..n-1 (scratch memory). */
uint32_t *wl_permutation(size_t n, uint64_t seed);
/* n random indices in [0, bound). */
uint32_t *wl_indices(size_t n, size_t bound, uint64_t seed);
/* Fills the latency fields of out from n tick deltas (sorts them). */
void wl_latency_summary(uint32_t *ticks, size_t n, bench_sample *out);
uint64_t wl_ticks(void);
double wl_ticks_per_ns(void);

/* The single-producer single-consumer ring of the producer/consumer workload. */
#define WL_RING 1024u
typedef struct wl_ring {
    _Alignas(64) _Atomic size_t head; /* next slot the producer writes */
    _Alignas(64) _Atomic size_t tail; /* next slot the consumer reads */
    _Alignas(64) void *slot[WL_RING];
    _Atomic int failed;
} wl_ring;

typedef struct wl_prodcons_arg {
    wl_ring *ring;
    void *st;
    size_t n;
    uint64_t sum;
} wl_prodcons_arg;

void wl_ring_push(wl_ring *r, void *p);
void *wl_ring_pop(wl_ring *r);
/* Runs producer and consumer on two threads; returns 0 or an error. */
int wl_prodcons_run(void *(*producer)(void *), void *(*consumer)(void *), void *st, size_t n,
                    bench_sample *out);

/* --- the bodies ------------------------------------------------------------ */

WL_INLINE int wl_paired(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    uint64_t sum = 0;
    size_t n = p->paired_n;
    bench_measure_begin();
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        void *b = ops->alloc(st, 32, 8);
        if (!b) {
            bench_measure_end();
            return -ENOMEM;
        }
        WL_ESCAPE(b);
        uint64_t tag = wl_tag(i);
        memcpy(b, &tag, sizeof tag);
        ((unsigned char *)b)[31] = (unsigned char)i;
        if (!wl_verify(b, tag, &sum)) {
            bench_measure_end();
            return -EFAULT;
        }
        ops->free(st, b, 32, 8);
    }
    double t1 = bench_now_ns();
    bench_measure_end();
    out->ns = t1 - t0;
    out->ops = n;
    out->checksum = sum;
    return 0;
}

WL_INLINE int wl_lifo(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    wl_tables t;
    if (wl_tables_make(&t, p->seed, 16, 256, 1, 256) != 0) return -ENOMEM;
    void *stack[256];
    uint32_t lens[256];
    uint64_t sum = 0;
    size_t done = 0, burst = 0, si = 0;
    int rc = 0;
    bench_measure_begin();
    double t0 = bench_now_ns();
    while (done < p->lifo_blocks) {
        size_t k = t.counts[burst++ & (WL_TABLE - 1)];
        if (k > p->lifo_blocks - done) k = p->lifo_blocks - done;
        for (size_t j = 0; j < k; j++) {
            uint32_t len = t.sizes[si++ & (WL_TABLE - 1)];
            void *b = ops->alloc(st, len, 8);
            if (!b) {
                rc = -ENOMEM;
                k = j;
                break;
            }
            WL_ESCAPE(b);
            wl_touch(b, len, wl_tag(done + j));
            stack[j] = b;
            lens[j] = len;
        }
        for (size_t j = k; j-- > 0;) {
            if (!wl_verify(stack[j], wl_tag(done + j), &sum)) rc = -EFAULT;
            ops->free(st, stack[j], lens[j], 8);
        }
        done += k;
        if (rc) break;
    }
    double t1 = bench_now_ns();
    bench_measure_end();
    wl_tables_free(&t);
    out->ns = t1 - t0;
    out->ops = done;
    out->checksum = sum;
    return rc;
}

/* batch: how the blocks go back. */
enum { WL_ORDER_FIFO, WL_ORDER_RANDOM, WL_ORDER_FREEALL };

WL_INLINE int wl_batch(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out, int order)
{
    size_t n = p->batch_n;
    wl_tables t;
    if (wl_tables_make(&t, p->seed, 16, 256, 1, 1) != 0) return -ENOMEM;
    void **ptrs = (void **)bench_scratch(n * sizeof(void *));
    uint32_t *perm = order == WL_ORDER_RANDOM ? wl_permutation(n, p->seed ^ 0xB47C4) : NULL;
    if (!ptrs || (order == WL_ORDER_RANDOM && !perm)) {
        wl_tables_free(&t);
        if (ptrs) bench_scratch_free(ptrs, n * sizeof(void *));
        return -ENOMEM;
    }
    uint64_t sum = 0;
    double live = 0;
    int rc = 0;
    size_t got = 0;
    bench_measure_begin();
    double t0 = bench_now_ns();
    for (; got < n; got++) {
        size_t len = t.sizes[got & (WL_TABLE - 1)];
        void *b = ops->alloc(st, len, 8);
        if (!b) {
            rc = -ENOMEM;
            break;
        }
        WL_ESCAPE(b);
        wl_touch(b, len, wl_tag(got));
        ptrs[got] = b;
    }
    double t1 = bench_now_ns();
    bench_measure_end();
    /* RSS at the peak, outside the clock. */
    double rss1 = bench_rss_growth();
    for (size_t i = 0; i < got; i++) live += t.sizes[i & (WL_TABLE - 1)];
    bench_measure_begin();
    double t2 = bench_now_ns();
    if (order == WL_ORDER_RANDOM && got == n) {
        for (size_t i = 0; i < n; i++) {
            size_t k = perm[i];
            if (!wl_verify(ptrs[k], wl_tag(k), &sum)) rc = -EFAULT;
            ops->free(st, ptrs[k], t.sizes[k & (WL_TABLE - 1)], 8);
        }
    } else if (order == WL_ORDER_FREEALL && (got == 0 || wl_verify(ptrs[0], wl_tag(0), &sum)) && ops->reset(st)) {
        /* One call gives everything back; the blocks are not visited (that is
         * the point of a reset): only the first tag is read, before the reset. */
    } else {
        for (size_t i = 0; i < got; i++) {
            if (!wl_verify(ptrs[i], wl_tag(i), &sum)) rc = -EFAULT;
            ops->free(st, ptrs[i], t.sizes[i & (WL_TABLE - 1)], 8);
        }
    }
    double t3 = bench_now_ns();
    bench_measure_end();
    if (perm) bench_scratch_free(perm, n * sizeof(uint32_t));
    bench_scratch_free(ptrs, n * sizeof(void *));
    wl_tables_free(&t);
    out->ns = (t1 - t0) + (t3 - t2);
    out->ops = got;
    out->rss_peak = rss1;
    out->live_peak = live;
    out->checksum = sum;
    return rc;
}

/* Fills slots [0, live) of a churn's live set with blocks of the table's
 * sizes (not timed). Returns how many it got (fewer: *rc = -ENOMEM). */
WL_INLINE size_t wl_churn_fill(const bench_ops *ops, void *st, const wl_tables *t, void **ptrs, uint32_t *lens,
                               size_t live, int *rc)
{
    size_t filled = 0;
    for (; filled < live; filled++) {
        uint32_t len = t->sizes[filled & (WL_TABLE - 1)];
        void *b = ops->alloc(st, len, 8);
        if (!b) {
            *rc = -ENOMEM;
            break;
        }
        wl_touch(b, len, wl_tag(filled) ^ len);
        ptrs[filled] = b;
        lens[filled] = len;
    }
    return filled;
}

/* Gives a churn's live set back (not timed): by reset where the contender
 * has one, else block by block. */
WL_INLINE void wl_churn_release(const bench_ops *ops, void *st, void **ptrs, const uint32_t *lens, size_t filled)
{
    if (ops->reset(st)) return;
    for (size_t i = 0; i < filled; i++)
        if (ptrs[i]) ops->free(st, ptrs[i], lens[i], 8);
}

/* churn and latency: a live set of `live` slots, `nops` random replacements. */
WL_INLINE int wl_churn(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out,
                       size_t max_len, bool timed_each)
{
    size_t live = max_len > 4096 ? p->churn64_live : p->churn_live;
    size_t nops = timed_each ? p->latency_ops : p->churn_ops;
    wl_tables t;
    if (wl_tables_make(&t, p->seed, 16, max_len, 1, 1) != 0) return -ENOMEM;
    void **ptrs = (void **)bench_scratch(live * sizeof(void *));
    uint32_t *lens = (uint32_t *)bench_scratch(live * sizeof(uint32_t));
    uint32_t *idx = wl_indices(nops, live, p->seed ^ 0xC4021);
    uint32_t *ticks = timed_each ? (uint32_t *)bench_scratch(2 * nops * sizeof(uint32_t)) : NULL;
    int rc = 0;
    if (!ptrs || !lens || !idx || (timed_each && !ticks)) {
        rc = -ENOMEM;
        goto out_tables;
    }
    uint64_t sum = 0;
    /* The fill is not timed: churn measures the steady state. */
    size_t filled = wl_churn_fill(ops, st, &t, ptrs, lens, live, &rc);
    size_t done = 0;
    double t0 = 0, t1 = 0, live_bytes = 0, rss1 = 0;
    if (rc == 0) {
        size_t si = live;
        bench_measure_begin();
        t0 = bench_now_ns();
        for (; done < nops; done++) {
            size_t k = idx[done];
            uint32_t len = t.sizes[si++ & (WL_TABLE - 1)];
            if (!wl_verify(ptrs[k], wl_tag(k) ^ lens[k], &sum)) {
                rc = -EFAULT;
                break;
            }
            void *b;
            if (timed_each) {
                uint64_t a = wl_ticks();
                ops->free(st, ptrs[k], lens[k], 8);
                uint64_t m = wl_ticks();
                b = ops->alloc(st, len, 8);
                uint64_t z = wl_ticks();
                ticks[2 * done] = (uint32_t)(m - a);
                ticks[2 * done + 1] = (uint32_t)(z - m);
            } else {
                ops->free(st, ptrs[k], lens[k], 8);
                b = ops->alloc(st, len, 8);
            }
            if (!b) {
                ptrs[k] = NULL;
                rc = -ENOMEM;
                break;
            }
            WL_ESCAPE(b);
            wl_touch(b, len, wl_tag(k) ^ len);
            ptrs[k] = b;
            lens[k] = len;
        }
        t1 = bench_now_ns();
        bench_measure_end();
        rss1 = bench_rss_growth();
        for (size_t i = 0; i < live; i++) live_bytes += lens[i];
    }
    /* Give the live set back (not timed). */
    wl_churn_release(ops, st, ptrs, lens, filled);
    out->ns = t1 - t0;
    out->ops = timed_each ? 2 * done : done;
    out->rss_peak = rss1;
    out->live_peak = live_bytes;
    out->checksum = sum;
    if (timed_each && rc == 0) wl_latency_summary(ticks, 2 * done, out);
out_tables:
    if (ticks) bench_scratch_free(ticks, 2 * nops * sizeof(uint32_t));
    if (idx) bench_scratch_free(idx, nops * sizeof(uint32_t));
    if (lens) bench_scratch_free(lens, live * sizeof(uint32_t));
    if (ptrs) bench_scratch_free(ptrs, live * sizeof(void *));
    wl_tables_free(&t);
    return rc;
}

/* churn-100k: the shape the O(1) heaps are compared in (100k live blocks of
 * 16 B-4 KiB, about 200 MiB: one 256 MiB heap holds them). Pass 0 is timed
 * as a whole (ns per replacement; RSS / live at its end). Then
 * WL_LAT_PASSES passes replay the same fill and replacements with the
 * time-stamp counter read around every free and alloc, and an operation's
 * latency is the least of its times over those passes: an interrupt or a
 * preemption lands on one pass, not on the same operation of every pass, so
 * the maximum shows the allocator's worst operation, not the machine's. */
WL_INLINE int wl_churn_passes(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    size_t live = p->churn100k_live, nops = p->churn100k_ops;
    int passes = bench_under_valgrind() ? 0 : WL_LAT_PASSES;
    wl_tables t;
    if (wl_tables_make(&t, p->seed, 16, 4096, 1, 1) != 0) return -ENOMEM;
    void **ptrs = (void **)bench_scratch(live * sizeof(void *));
    uint32_t *lens = (uint32_t *)bench_scratch(live * sizeof(uint32_t));
    uint32_t *idx = wl_indices(nops, live, p->seed ^ 0xC4021);
    uint32_t *lat = (uint32_t *)bench_scratch(2 * nops * sizeof(uint32_t));
    int rc = 0;
    uint64_t sum = 0;
    double t0 = 0, t1 = 0;
    if (!ptrs || !lens || !idx || !lat) rc = -ENOMEM;
    for (int pass = 0; pass <= passes && rc == 0; pass++) {
        size_t filled = wl_churn_fill(ops, st, &t, ptrs, lens, live, &rc);
        size_t si = live;
        if (pass == 0) {
            bench_measure_begin();
            t0 = bench_now_ns();
        }
        for (size_t i = 0; i < nops && rc == 0; i++) {
            size_t k = idx[i];
            uint32_t len = t.sizes[si++ & (WL_TABLE - 1)];
            if (!wl_verify(ptrs[k], wl_tag(k) ^ lens[k], &sum)) {
                rc = -EFAULT;
                break;
            }
            void *b;
            if (pass == 0) {
                ops->free(st, ptrs[k], lens[k], 8);
                b = ops->alloc(st, len, 8);
            } else {
                uint64_t a = wl_ticks();
                ops->free(st, ptrs[k], lens[k], 8);
                uint64_t m = wl_ticks();
                b = ops->alloc(st, len, 8);
                uint64_t z = wl_ticks();
                uint32_t df = (uint32_t)(m - a), da = (uint32_t)(z - m);
                if (pass == 1 || df < lat[2 * i]) lat[2 * i] = df;
                if (pass == 1 || da < lat[2 * i + 1]) lat[2 * i + 1] = da;
            }
            ptrs[k] = b;
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            WL_ESCAPE(b);
            wl_touch(b, len, wl_tag(k) ^ len);
            lens[k] = len;
        }
        if (pass == 0) {
            t1 = bench_now_ns();
            bench_measure_end();
            out->rss_peak = bench_rss_growth();
            for (size_t i = 0; i < live; i++) out->live_peak += lens[i];
        }
        wl_churn_release(ops, st, ptrs, lens, filled);
    }
    out->ns = t1 - t0;
    out->ops = nops;
    out->checksum = sum;
    if (rc == 0 && passes > 0) wl_latency_summary(lat, 2 * nops, out);
    if (lat) bench_scratch_free(lat, 2 * nops * sizeof(uint32_t));
    if (idx) bench_scratch_free(idx, nops * sizeof(uint32_t));
    if (lens) bench_scratch_free(lens, live * sizeof(uint32_t));
    if (ptrs) bench_scratch_free(ptrs, live * sizeof(void *));
    wl_tables_free(&t);
    return rc;
}

/* realloc growth, doubling (step == 0) or by +step bytes. Writes every new
 * page and the new tail, checks the head survived every move. */
WL_INLINE int wl_realloc(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out, size_t step)
{
    size_t rounds = step ? 1 : p->realloc_rounds;
    uint64_t sum = 0, calls = 0;
    int rc = 0;
    double wall0 = bench_wall_ns();
    bench_measure_begin();
    double t0 = bench_now_ns();
    for (size_t r = 0; r < rounds && rc == 0; r++) {
        size_t len = 16;
        unsigned char *b = (unsigned char *)ops->alloc(st, len, 8);
        if (!b) {
            rc = -ENOMEM;
            break;
        }
        uint64_t tag = wl_tag(r + 1);
        wl_touch(b, len, tag);
        size_t max = step ? p->realloc_step_max : p->realloc_max;
        while (len < max) {
            /* An allocator that copies on every call makes this quadratic:
             * stop at the budget and say so rather than run for minutes. */
            if ((calls & 4095) == 4095 && wl_over_budget(p, wall0)) {
                out->progress = (double)len;
                out->goal = (double)max;
                rc = -ETIMEDOUT;
                break;
            }
            size_t nl = step ? len + step : len * 2;
            unsigned char *nb = (unsigned char *)ops->realloc(st, b, len, nl, 8);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            calls++;
            WL_ESCAPE(nb);
            /* The new part: one byte per page, and the last 16 bytes. */
            for (size_t off = (len + 4095) & ~(size_t)4095; off < nl; off += 4096) nb[off] = (unsigned char)off;
            memset(nb + nl - 16, (int)(nl & 0xff), 16);
            b = nb;
            len = nl;
        }
        if (!wl_verify(b, tag, &sum) && rc == 0) rc = -EFAULT;
        ops->free(st, b, len, 8);
    }
    double t1 = bench_now_ns();
    bench_measure_end();
    out->ns = t1 - t0;
    out->ops = calls;
    out->checksum = sum;
    return rc;
}

WL_INLINE int wl_large(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    size_t live = p->large_live, n = p->large_n;
    void *ptrs[64] = {0};
    size_t lens[64] = {0};
    if (live > 64) live = 64;
    bench_rng rng;
    bench_rng_seed(&rng, p->seed ^ 0x1A26E);
    size_t *sizes = (size_t *)bench_scratch(n * sizeof(size_t));
    if (!sizes) return -ENOMEM;
    for (size_t i = 0; i < n; i++) sizes[i] = bench_rng_range(&rng, p->large_min, p->large_max);
    uint64_t sum = 0;
    int rc = 0;
    double peak_live = 0, peak_rss = 0, cur_live = 0;
    double measured = 0;
    size_t i = 0;
    for (; i < n; i++) {
        size_t k = i % live;
        bench_measure_begin();
        double t0 = bench_now_ns();
        if (ptrs[k]) {
            if (!wl_verify(ptrs[k], wl_tag(i - live), &sum)) rc = -EFAULT;
            ops->free(st, ptrs[k], lens[k], 16);
            cur_live -= (double)lens[k];
            ptrs[k] = NULL;
        }
        void *b = ops->alloc(st, sizes[i], 16);
        if (b) wl_touch(b, sizes[i], wl_tag(i));
        double t1 = bench_now_ns();
        bench_measure_end();
        measured += t1 - t0;
        if (!b) {
            rc = -ENOMEM;
            break;
        }
        ptrs[k] = b;
        lens[k] = sizes[i];
        cur_live += (double)sizes[i];
        /* Sample RSS when the live set is full (cheap next to a 5 MiB fault run). */
        if (cur_live > peak_live) peak_live = cur_live;
        if ((i + 1) % live == 0) {
            double r = bench_rss_growth();
            if (r > peak_rss) peak_rss = r;
        }
        if (rc) break;
    }
    for (size_t k = 0; k < live; k++)
        if (ptrs[k]) ops->free(st, ptrs[k], lens[k], 16);
    bench_scratch_free(sizes, n * sizeof(size_t));
    out->ns = measured;
    out->ops = i;
    out->rss_peak = peak_rss;
    out->live_peak = peak_live;
    out->checksum = sum;
    return rc;
}

/* --- the footprint workloads (phase, drift, realloc-many) --------------------
 * These measure what an allocator keeps resident, so each ends the same way:
 * everything is freed, the process waits p->decay_ns (1 s in a full run) and
 * makes one small alloc+free, and only then samples RSS (rss_end). The wait
 * is for allocators that return memory after a delay (mimalloc's purge
 * delay, jemalloc's decay); the extra call is for those that act on decay
 * only when called (jemalloc without its background thread). No
 * malloc_trim(0) is called: the figure is what a program that never calls it
 * gets. The wait is wall time and is not in the measured CPU time.
 */
WL_INLINE void wl_settle(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    bench_decay_wait(p);
    void *b = ops->alloc(st, 64, 8);
    if (b) {
        WL_ESCAPE(b);
        ops->free(st, b, 64, 8);
    }
    out->rss_end = bench_rss_growth();
}

/* realloc-many: n buffers, each started at 64 B and grown by +64 B per call,
 * round-robin, to rmany_max. Interleaving is the point: no buffer is ever the
 * last block of the heap, so growth in place needs free space after each
 * one, and an allocator that cannot find it copies. */
WL_INLINE int wl_realloc_many(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    size_t n = p->rmany_n, max = p->rmany_max, len = 64;
    unsigned char **bufs = (unsigned char **)bench_scratch(n * sizeof *bufs);
    if (!bufs) return -ENOMEM;
    uint64_t sum = 0, calls = 0;
    int rc = 0;
    size_t got = 0;
    double wall0 = bench_wall_ns();
    bench_measure_begin();
    double t0 = bench_now_ns();
    for (; got < n; got++) {
        bufs[got] = (unsigned char *)ops->alloc(st, len, 8);
        if (!bufs[got]) {
            rc = -ENOMEM;
            break;
        }
        wl_touch(bufs[got], len, wl_tag(got));
    }
    /* lens of every buffer: len before a round, len + 64 after it, except
     * that a failed or stopped round leaves buffers [0, i) one step ahead. */
    size_t ahead = 0;
    while (rc == 0 && len < max) {
        if (wl_over_budget(p, wall0)) {
            out->progress = (double)n * (double)len;
            out->goal = (double)n * (double)max;
            rc = -ETIMEDOUT;
            break;
        }
        size_t nl = len + 64;
        for (size_t i = 0; i < n; i++) {
            unsigned char *nb = (unsigned char *)ops->realloc(st, bufs[i], len, nl, 8);
            if (!nb) {
                rc = -ENOMEM;
                ahead = i;
                break;
            }
            calls++;
            WL_ESCAPE(nb);
            if ((len & 4095) == 0) nb[len] = (unsigned char)i; /* the first byte of a new page */
            memset(nb + nl - 16, (int)(i & 0xff), 16);
            bufs[i] = nb;
        }
        if (rc) break;
        len = nl;
    }
    double t1 = bench_now_ns();
    bench_measure_end();
    out->rss_peak = bench_rss_growth();
    out->live_peak = (double)got * (double)len;
    for (size_t i = 0; i < got; i++) {
        if (!wl_verify(bufs[i], wl_tag(i), &sum) && rc == 0) rc = -EFAULT;
        ops->free(st, bufs[i], i < ahead ? len + 64 : len, 8);
    }
    bench_scratch_free(bufs, n * sizeof *bufs);
    wl_settle(ops, st, p, out);
    out->ns = t1 - t0;
    out->ops = calls;
    out->checksum = sum;
    return rc;
}

/* phase: three phases, each allocating its whole live set and then freeing
 * it oldest first: 64 B blocks to phase_bytes, then 1-4 KiB blocks to
 * phase_bytes, then phase_big_n blocks of 256 KiB. An allocator that keeps
 * memory in the size class that first used it carries the first phase's
 * footprint into the second (peak RSS) and past the end (RSS after). */
WL_INLINE int wl_phase(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    size_t cap = p->phase_bytes / 64;
    if (p->phase_big_n > cap) cap = p->phase_big_n;
    wl_tables t;
    if (wl_tables_make(&t, p->seed, 1024, 4096, 1, 1) != 0) return -ENOMEM;
    void **ptrs = (void **)bench_scratch(cap * sizeof *ptrs);
    if (!ptrs) {
        wl_tables_free(&t);
        return -ENOMEM;
    }
    uint64_t sum = 0;
    int rc = 0;
    double ns = 0, live_peak = 0, rss_peak = 0, done_bytes = 0;
    uint64_t blocks = 0;
    double wall0 = bench_wall_ns();
    const double goal = 2.0 * (double)p->phase_bytes + (double)p->phase_big_n * (256 << 10);
    for (int ph = 0; ph < 3 && rc == 0; ph++) {
        size_t got = 0;
        double live = 0;
        bench_measure_begin();
        double t0 = bench_now_ns();
        for (;; got++) {
            size_t len = ph == 0 ? 64 : ph == 1 ? t.sizes[got & (WL_TABLE - 1)] : (size_t)256 << 10;
            if (ph == 2 ? got == p->phase_big_n : live + (double)len > (double)p->phase_bytes || got == cap) break;
            if ((got & 4095) == 4095 && wl_over_budget(p, wall0)) {
                out->progress = done_bytes + live;
                out->goal = goal;
                rc = -ETIMEDOUT;
                break;
            }
            void *b = ops->alloc(st, len, 8);
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            WL_ESCAPE(b);
            wl_touch(b, len, wl_tag(got));
            ptrs[got] = b;
            live += (double)len;
        }
        double t1 = bench_now_ns();
        bench_measure_end();
        /* Live bytes only grow within a phase: its end is its peak. */
        double rss = bench_rss_growth();
        if (rss > rss_peak) rss_peak = rss;
        if (live > live_peak) live_peak = live;
        bench_measure_begin();
        double t2 = bench_now_ns();
        for (size_t i = 0; i < got; i++) {
            size_t len = ph == 0 ? 64 : ph == 1 ? t.sizes[i & (WL_TABLE - 1)] : (size_t)256 << 10;
            if (!wl_verify(ptrs[i], wl_tag(i), &sum) && rc == 0) rc = -EFAULT;
            ops->free(st, ptrs[i], len, 8);
        }
        double t3 = bench_now_ns();
        bench_measure_end();
        out->rss_phase[ph] = bench_rss_growth();
        ns += (t1 - t0) + (t3 - t2);
        blocks += got;
        done_bytes += live;
    }
    bench_scratch_free(ptrs, cap * sizeof *ptrs);
    wl_tables_free(&t);
    wl_settle(ops, st, p, out);
    out->ns = ns;
    out->ops = blocks;
    out->rss_peak = rss_peak;
    out->live_peak = live_peak;
    out->checksum = sum;
    return rc;
}

/* drift: one operation is an allocation while the live bytes are below
 * drift_live, else the free of a random live block. The mean request grows
 * geometrically from 32 B to 32 KiB over the run (sizes uniform in
 * [mean/2, 3*mean/2]), so the live set turns over from many small blocks to
 * few large ones, as a server's does when its traffic changes. RSS is
 * sampled every 64Ki operations outside the clock; the figure is peak RSS /
 * peak live bytes. */
WL_INLINE int wl_drift(const bench_ops *ops, void *st, const bench_params *p, bench_sample *out)
{
    size_t nops = p->drift_ops;
    size_t cap = p->drift_live / 16 + 1; /* the smallest request is 16 B */
    uint32_t *sizes = (uint32_t *)bench_scratch(nops * sizeof(uint32_t));
    uint32_t *pick = wl_indices(nops, (size_t)1 << 31, p->seed ^ 0xD21F7);
    void **ptrs = (void **)bench_scratch(cap * sizeof *ptrs);
    uint32_t *lens = (uint32_t *)bench_scratch(cap * sizeof(uint32_t));
    int rc = 0;
    if (!sizes || !pick || !ptrs || !lens) {
        rc = -ENOMEM;
        goto out_free;
    }
    {
        bench_rng r;
        bench_rng_seed(&r, p->seed ^ 0xD21F7 ^ 1);
        for (size_t i = 0; i < nops; i++) {
            double mean = 32.0 * exp2(10.0 * (double)i / (double)nops);
            sizes[i] = (uint32_t)bench_rng_range(&r, (size_t)(mean / 2), (size_t)(mean * 1.5));
        }
    }
    uint64_t sum = 0;
    size_t count = 0, i = 0;
    double live = 0, live_peak = 0, rss_peak = 0, ns = 0;
    double wall0 = bench_wall_ns();
    while (i < nops && rc == 0) {
        size_t end = i + 65536 < nops ? i + 65536 : nops;
        bench_measure_begin();
        double t0 = bench_now_ns();
        for (; i < end; i++) {
            if (live < (double)p->drift_live && count < cap) {
                size_t len = sizes[i];
                void *b = ops->alloc(st, len, 8);
                if (!b) {
                    rc = -ENOMEM;
                    break;
                }
                WL_ESCAPE(b);
                wl_touch(b, len, wl_tag(count) ^ len);
                ptrs[count] = b;
                lens[count] = (uint32_t)len;
                count++;
                live += (double)len;
                if (live > live_peak) live_peak = live;
            } else {
                size_t k = pick[i] % count;
                if (!wl_verify(ptrs[k], wl_tag(k) ^ lens[k], &sum)) rc = -EFAULT;
                ops->free(st, ptrs[k], lens[k], 8);
                live -= (double)lens[k];
                /* The last block moves into the hole; its tag follows its slot. */
                count--;
                if (k != count) {
                    ptrs[k] = ptrs[count];
                    lens[k] = lens[count];
                    uint64_t tag = wl_tag(k) ^ lens[k];
                    memcpy(ptrs[k], &tag, sizeof tag);
                }
                if (rc) {
                    i++;
                    break;
                }
            }
        }
        double t1 = bench_now_ns();
        bench_measure_end();
        ns += t1 - t0;
        double rss = bench_rss_growth();
        if (rss > rss_peak) rss_peak = rss;
        if (rc == 0 && i < nops && wl_over_budget(p, wall0)) {
            out->progress = (double)i;
            out->goal = (double)nops;
            rc = -ETIMEDOUT;
        }
    }
    for (size_t k = 0; k < count; k++) ops->free(st, ptrs[k], lens[k], 8);
    wl_settle(ops, st, p, out);
    out->ns = ns;
    out->ops = i;
    out->rss_peak = rss_peak;
    out->live_peak = live_peak;
    out->checksum = sum;
out_free:
    if (lens) bench_scratch_free(lens, cap * sizeof(uint32_t));
    if (ptrs) bench_scratch_free(ptrs, cap * sizeof *ptrs);
    if (pick) bench_scratch_free(pick, nops * sizeof(uint32_t));
    if (sizes) bench_scratch_free(sizes, nops * sizeof(uint32_t));
    return rc;
}

WL_INLINE void *wl_producer(const bench_ops *ops, void *argp)
{
    wl_prodcons_arg *arg = (wl_prodcons_arg *)argp;
    for (size_t i = 0; i < arg->n; i++) {
        void *b = ops->alloc(arg->st, 64, 8);
        if (!b) {
            atomic_store(&arg->ring->failed, 1);
            wl_ring_push(arg->ring, NULL);
            return NULL;
        }
        uint64_t tag = wl_tag(i);
        memcpy(b, &tag, sizeof tag);
        wl_ring_push(arg->ring, b);
    }
    return NULL;
}

WL_INLINE void *wl_consumer(const bench_ops *ops, void *argp)
{
    wl_prodcons_arg *arg = (wl_prodcons_arg *)argp;
    for (size_t i = 0; i < arg->n; i++) {
        void *b = wl_ring_pop(arg->ring);
        if (!b) return NULL;
        if (!wl_verify(b, wl_tag(i), &arg->sum)) atomic_store(&arg->ring->failed, 2);
        ops->free(arg->st, b, 64, 8);
    }
    return NULL;
}

/*
 * BENCH_IMPL(ident, "label", &ops): compiles every workload against ops and
 * defines `const bench_impl ident`. ops must name a static const bench_ops.
 */
#define BENCH_IMPL(ident, label, opsp)                                                                   \
    static int ident##_paired(void *st, const bench_params *p, bench_sample *o)                          \
    {                                                                                                    \
        return wl_paired(opsp, st, p, o);                                                                \
    }                                                                                                    \
    static int ident##_lifo(void *st, const bench_params *p, bench_sample *o) { return wl_lifo(opsp, st, p, o); } \
    static int ident##_bfifo(void *st, const bench_params *p, bench_sample *o)                           \
    {                                                                                                    \
        return wl_batch(opsp, st, p, o, WL_ORDER_FIFO);                                                  \
    }                                                                                                    \
    static int ident##_brandom(void *st, const bench_params *p, bench_sample *o)                         \
    {                                                                                                    \
        return wl_batch(opsp, st, p, o, WL_ORDER_RANDOM);                                                \
    }                                                                                                    \
    static int ident##_bfreeall(void *st, const bench_params *p, bench_sample *o)                        \
    {                                                                                                    \
        return wl_batch(opsp, st, p, o, WL_ORDER_FREEALL);                                               \
    }                                                                                                    \
    static int ident##_churn4k(void *st, const bench_params *p, bench_sample *o)                         \
    {                                                                                                    \
        return wl_churn(opsp, st, p, o, 4096, false);                                                    \
    }                                                                                                    \
    static int ident##_churn64k(void *st, const bench_params *p, bench_sample *o)                        \
    {                                                                                                    \
        return wl_churn(opsp, st, p, o, 65536, false);                                                   \
    }                                                                                                    \
    static int ident##_rdouble(void *st, const bench_params *p, bench_sample *o)                         \
    {                                                                                                    \
        return wl_realloc(opsp, st, p, o, 0);                                                            \
    }                                                                                                    \
    static int ident##_rstep(void *st, const bench_params *p, bench_sample *o)                           \
    {                                                                                                    \
        return wl_realloc(opsp, st, p, o, 16);                                                           \
    }                                                                                                    \
    static void *ident##_producer(void *arg) { return wl_producer(opsp, arg); }                          \
    static void *ident##_consumer(void *arg) { return wl_consumer(opsp, arg); }                          \
    static int ident##_prodcons(void *st, const bench_params *p, bench_sample *o)                        \
    {                                                                                                    \
        return wl_prodcons_run(ident##_producer, ident##_consumer, st, p->prodcons_n, o);                \
    }                                                                                                    \
    static int ident##_large(void *st, const bench_params *p, bench_sample *o) { return wl_large(opsp, st, p, o); } \
    static int ident##_latency(void *st, const bench_params *p, bench_sample *o)                         \
    {                                                                                                    \
        return wl_churn(opsp, st, p, o, 4096, true);                                                     \
    }                                                                                                    \
    static int ident##_rmany(void *st, const bench_params *p, bench_sample *o)                           \
    {                                                                                                    \
        return wl_realloc_many(opsp, st, p, o);                                                          \
    }                                                                                                    \
    static int ident##_phase(void *st, const bench_params *p, bench_sample *o) { return wl_phase(opsp, st, p, o); } \
    static int ident##_drift(void *st, const bench_params *p, bench_sample *o) { return wl_drift(opsp, st, p, o); } \
    static int ident##_churn100k(void *st, const bench_params *p, bench_sample *o)                       \
    {                                                                                                    \
        return wl_churn_passes(opsp, st, p, o);                                                          \
    }                                                                                                    \
    static bool ident##_reset(void *st) { return (opsp)->reset(st); }                                    \
    const bench_impl ident = {label,                                                                     \
                              ident##_reset,                                                             \
                              {                                                                          \
                                  [WL_PAIRED] = ident##_paired,                                          \
                                  [WL_LIFO] = ident##_lifo,                                              \
                                  [WL_BATCH_FIFO] = ident##_bfifo,                                       \
                                  [WL_BATCH_RANDOM] = ident##_brandom,                                   \
                                  [WL_BATCH_FREEALL] = ident##_bfreeall,                                 \
                                  [WL_CHURN_4K] = ident##_churn4k,                                       \
                                  [WL_CHURN_64K] = ident##_churn64k,                                     \
                                  [WL_REALLOC_DOUBLE] = ident##_rdouble,                                 \
                                  [WL_REALLOC_STEP] = ident##_rstep,                                     \
                                  [WL_PRODCONS] = ident##_prodcons,                                      \
                                  [WL_LARGE] = ident##_large,                                            \
                                  [WL_LATENCY] = ident##_latency,                                        \
                                  [WL_REALLOC_MANY] = ident##_rmany,                                     \
                                  [WL_PHASE] = ident##_phase,                                            \
                                  [WL_DRIFT] = ident##_drift,                                            \
                                  [WL_CHURN_100K] = ident##_churn100k,                                   \
                              }};

#endif /* ALLOC_BENCH_WORKLOADS_H */
