/*
 * contender_core.c: the handles of the foundation (page allocator, C
 * allocator), the generic handle impl every strategy contender uses, the
 * life cycle of contenders made from a descriptor, and the transport-only
 * baseline of the producer/consumer workload.
 */
#define _GNU_SOURCE 1
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc/c_allocator.h"
#include "alloc/page.h"
#include "contender_desc.h"
#include "workloads.h"

/* --- the handle impl: every call through the front door and the vtable ------- */

static void *h_alloc(void *st, size_t len, size_t align)
{
    return alloc_bytes(((bench_handle *)st)->a, len, align);
}

static const bench_ops handle_ops = {h_alloc, bench_handle_free, bench_handle_realloc, bench_handle_reset};
BENCH_IMPL(bench_impl_handle, "handle", &handle_ops)

/* --- contenders made from a descriptor --------------------------------------- */

/* Descriptor state and buffers come straight from the OS: the state pre-touched
 * and counted out of the RSS figures (bench_scratch), a backing buffer mapped
 * without touching it, so that only the pages a workload uses count. */
static void *scratch_zeroed(size_t bytes) { return bench_scratch(bytes); }

static void *buffer_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void buffer_unmap(void *p, size_t bytes) { munmap(p, bytes); }

static bool desc_handle_reset(bench_handle *h) { return desc_reset(&((bench_desc_state *)(void *)h)->d); }

int bench_desc_create(const descriptor *d, bench_desc_args_fn args, bool use_reset, const bench_need *need,
                      void **state, const char **why)
{
    desc_memory_hooks = (desc_memory){scratch_zeroed, bench_scratch_free, buffer_map, buffer_unmap};
    desc_args a = {0};
    if (args && args(need, &a, why) != 0) return -1;
    size_t bytes = sizeof(bench_desc_state) + d->state_size;
    bench_desc_state *s = (bench_desc_state *)bench_scratch(bytes);
    if (!s || !desc_make_at(d, &s->d, d->state_size ? s->object : NULL, &a)) {
        bench_scratch_free(s, bytes);
        *why = "the allocator could not be made for this need";
        return -1;
    }
    s->h.a = s->d.a;
    s->h.reset = use_reset && d->reset ? desc_handle_reset : NULL;
    *state = s;
    return 0;
}

void bench_desc_destroy(void *state)
{
    bench_desc_state *s = (bench_desc_state *)state;
    size_t bytes = sizeof(bench_desc_state) + s->d.state_size;
    desc_destroy(&s->d);
    bench_scratch_free(s, bytes);
}

bool bench_desc_check(void *state) { return desc_check(&((bench_desc_state *)state)->d); }

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
    /* The footprint workloads would measure glibc's memory a second time. */
    .workloads = WL_ALL & ~(WL_BIT(WL_REALLOC_MANY) | WL_BIT(WL_PHASE) | WL_BIT(WL_DRIFT)),
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

/* --- harness floor -------------------------------------------------------------------
 * The cheapest possible "allocator": a pointer that walks a buffer and wraps
 * around (the buffer holds twice the workload's live bytes, so a wrapped
 * block is never live), and a free that does nothing. Its time and
 * instruction count are what the harness itself costs per operation (tags,
 * page touches, the loop): subtract it from any row to see the allocator
 * alone.
 */
typedef struct floor_state {
    unsigned char *buf;
    size_t off, cap;
} floor_state;

static void *f_alloc(void *st, size_t len, size_t align)
{
    floor_state *f = (floor_state *)st;
    size_t off = (f->off + align - 1) & ~(align - 1);
    if (off + len > f->cap) off = 0;
    f->off = off + len;
    return f->buf + off;
}

static bool f_reset(void *st)
{
    ((floor_state *)st)->off = 0;
    return true;
}

static const bench_ops floor_ops = {f_alloc, t_free, t_realloc, f_reset};
BENCH_IMPL(bench_impl_floor, "floor", &floor_ops)

static int floor_create(const bench_need *need, void **state, const char **why)
{
    floor_state *f = (floor_state *)bench_scratch(sizeof *f);
    size_t cap = 2 * (need->max_live_bytes + need->max_live_count * need->align) + ((size_t)1 << 20);
    void *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!f || buf == MAP_FAILED) {
        bench_scratch_free(f, sizeof *f);
        if (buf != MAP_FAILED) munmap(buf, cap);
        *why = "cannot map the buffer";
        return -1;
    }
    f->buf = (unsigned char *)buf;
    f->off = 0;
    f->cap = cap;
    *state = f;
    return 0;
}

static void floor_destroy(void *state)
{
    floor_state *f = (floor_state *)state;
    munmap(f->buf, f->cap);
    bench_scratch_free(f, sizeof *f);
}

BENCH_CONTENDER(floor_row, {
    .name = "floor",
    .family = "baseline",
    .what = "no allocator: a wrapping pointer and a free that does nothing (the harness's own cost)",
    .flags = BENCH_BASELINE,
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FIFO) | WL_BIT(WL_BATCH_RANDOM) |
                 WL_BIT(WL_BATCH_FREEALL),
    .impl = &bench_impl_floor,
    .create = floor_create,
    .destroy = floor_destroy,
})
