/*
 * contender_core.c: the handles of the foundation (page allocator, C
 * allocator), the generic handle impl every strategy contender uses, and the
 * transport-only baseline of the producer/consumer workload.
 */
#include <stdlib.h>

#include "alloc/c_allocator.h"
#include "alloc/page.h"
#include "bench.h"
#include "workloads.h"

/* --- the handle impl: every call through the front door and the vtable ------- */

static void *h_alloc(void *st, size_t len, size_t align)
{
    return alloc_bytes(((bench_handle *)st)->a, len, align);
}

static void h_free(void *st, void *p, size_t len, size_t align)
{
    alloc_free(((bench_handle *)st)->a, p, len, align);
}

static void *h_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    return alloc_realloc(((bench_handle *)st)->a, p, len, align, new_len);
}

static bool h_reset(void *st)
{
    bench_handle *h = (bench_handle *)st;
    return h->reset ? h->reset(h) : false;
}

static const bench_ops handle_ops = {h_alloc, h_free, h_realloc, h_reset};
BENCH_IMPL(bench_impl_handle, "handle", &handle_ops)

/* --- page and c ------------------------------------------------------------------ */

static bench_handle page_handle, c_handle;

static int page_create(const bench_need *need, void **state, const char **why)
{
    (void)need, (void)why;
    page_handle.a = alloc_page_allocator();
    *state = &page_handle;
    return 0;
}

static bool page_check(void *state)
{
    (void)state;
    return alloc_page_check();
}

static int c_create(const bench_need *need, void **state, const char **why)
{
    (void)need, (void)why;
    c_handle.a = alloc_c_allocator();
    *state = &c_handle;
    return 0;
}

static void nothing(void *state) { (void)state; }

/* One system call per operation: joining the small-block workloads would
 * take minutes and hit the kernel's mapping limit, and says nothing new. */
BENCH_CONTENDER(page_row, {
    .name = "page",
    .family = "handle",
    .what = "alloc_page_allocator(): one mapping per block, remap by mremap",
    .flags = BENCH_THREAD_SAFE,
    .workloads = WL_BIT(WL_REALLOC_DOUBLE) | WL_BIT(WL_REALLOC_STEP) | WL_BIT(WL_LARGE),
    .impl = &bench_impl_handle,
    .create = page_create,
    .destroy = nothing,
    .check = page_check,
})

BENCH_CONTENDER(c_row, {
    .name = "c",
    .family = "handle",
    .what = "alloc_c_allocator(): glibc malloc behind the vtable (the handle's own cost)",
    .flags = BENCH_THREAD_SAFE,
    .workloads = WL_ALL,
    .impl = &bench_impl_handle,
    .create = c_create,
    .destroy = nothing,
})

/* --- transport baseline ------------------------------------------------------------
 * Blocks come from a fixed ring the producer walks; the consumer's free does
 * nothing. A block is reused 2 * WL_RING blocks later, when the consumer is
 * at least WL_RING blocks past it (the ring holds at most WL_RING), so no
 * block is rewritten while still queued. What remains is the cost of the
 * handover itself: the floor under every allocator's producer/consumer time.
 */
typedef struct transport {
    unsigned char (*blocks)[64];
    size_t next;
} transport;

static void *t_alloc(void *st, size_t len, size_t align)
{
    (void)len, (void)align;
    transport *t = (transport *)st;
    return t->blocks[t->next++ & (2 * WL_RING - 1)];
}

static void t_free(void *st, void *p, size_t len, size_t align) { (void)st, (void)p, (void)len, (void)align; }

static void *t_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    (void)st, (void)p, (void)len, (void)new_len, (void)align;
    return NULL;
}

static bool t_reset(void *st)
{
    (void)st;
    return true;
}

static const bench_ops transport_ops = {t_alloc, t_free, t_realloc, t_reset};
BENCH_IMPL(bench_impl_transport, "transport", &transport_ops)

static int transport_create(const bench_need *need, void **state, const char **why)
{
    (void)need, (void)why;
    transport *t = (transport *)bench_scratch(sizeof(transport) + 2 * WL_RING * 64);
    if (!t) return -1;
    t->blocks = (unsigned char (*)[64])(void *)(t + 1);
    t->next = 0;
    *state = t;
    return 0;
}

static void transport_destroy(void *state) { bench_scratch_free(state, sizeof(transport) + 2 * WL_RING * 64); }

BENCH_CONTENDER(transport_row, {
    .name = "transport",
    .family = "baseline",
    .what = "no allocator: the producer/consumer handover alone",
    .flags = BENCH_THREAD_SAFE | BENCH_BASELINE,
    .workloads = WL_BIT(WL_PRODCONS),
    .impl = &bench_impl_transport,
    .create = transport_create,
    .destroy = transport_destroy,
})
