/*
 * contender_stack.c: the LIFO stack allocator over the page allocator
 * (chunked, default sizes), through its handle and with its inline push
 * (alloc_stack_alloc_fast; pops go through the handle). It joins the
 * workloads whose frees come in reverse order (paired, lifo), batch-freeall
 * (one alloc_stack_reset), and realloc growth (the only block is the top
 * block). FIFO or random frees would be contract violations.
 */
#include "alloc/stack.h"
#include "bench.h"
#include "workloads.h"

typedef struct stack_state {
    bench_handle h; /* first: the handle impl reads it */
    alloc_stack stack;
} stack_state;

static bool stack_reset(bench_handle *h)
{
    alloc_stack_reset(&((stack_state *)(void *)h)->stack);
    return true;
}

static int stack_create(const bench_need *need, void **state, const char **why)
{
    (void)need;
    stack_state *s = (stack_state *)bench_scratch(sizeof *s);
    if (!s || alloc_stack_init(&s->stack, NULL) != 0) {
        bench_scratch_free(s, sizeof *s);
        *why = "alloc_stack_init failed";
        return -1;
    }
    s->h.a = alloc_stack_allocator(&s->stack);
    s->h.reset = stack_reset;
    *state = s;
    return 0;
}

static void stack_destroy(void *state)
{
    stack_state *s = (stack_state *)state;
    alloc_stack_deinit(&s->stack);
    bench_scratch_free(s, sizeof *s);
}

static bool stack_check(void *state) { return alloc_stack_check(&((stack_state *)state)->stack); }

#define STACK_WORKLOADS                                                                               \
    (WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_REALLOC_DOUBLE) |     \
     WL_BIT(WL_REALLOC_STEP))

BENCH_CONTENDER(stack_row, {
    .name = "stack",
    .family = "handle",
    .what = "alloc_stack over the page allocator (chunks, defaults), through the handle; free-all = alloc_stack_reset",
    .workloads = STACK_WORKLOADS,
    .impl = &bench_impl_handle,
    .create = stack_create,
    .destroy = stack_destroy,
    .check = stack_check,
})

static void *si_alloc(void *st, size_t len, size_t align)
{
    return alloc_stack_alloc_fast(&((stack_state *)st)->stack, len, align);
}

static void si_free(void *st, void *p, size_t len, size_t align)
{
    alloc_free(((stack_state *)st)->h.a, p, len, align);
}

static void *si_realloc(void *st, void *p, size_t len, size_t new_len, size_t align)
{
    return alloc_realloc(((stack_state *)st)->h.a, p, len, align, new_len);
}

static bool si_reset(void *st) { return stack_reset(&((stack_state *)st)->h); }

static const bench_ops stack_inline_ops = {si_alloc, si_free, si_realloc, si_reset};
BENCH_IMPL(bench_impl_stack_inline, "stack-inline", &stack_inline_ops)

BENCH_CONTENDER(stack_inline_row, {
    .name = "stack-inline",
    .family = "inline",
    .what = "alloc_stack_alloc_fast (inline) for the push; pops through the handle",
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FREEALL),
    .impl = &bench_impl_stack_inline,
    .create = stack_create,
    .destroy = stack_destroy,
    .check = stack_check,
})
