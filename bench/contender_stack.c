/*
 * contender_stack.c: the LIFO stack allocator over the page allocator
 * (chunked, default sizes), through its handle and with its inline push
 * (alloc_stack_alloc_fast; pops go through the handle). It joins the
 * workloads whose frees come in reverse order (paired, lifo), batch-freeall
 * (one alloc_stack_reset), and realloc growth (the only block is the top
 * block). FIFO or random frees would be contract violations.
 */

#include "alloc/stack.h"
#include "contender_desc.h"
#include "workloads.h"

DESC_DECLARE(desc_stack_pages)

/* The library's default chunks. */
static int stack_args(const bench_need *need, desc_args *out, const char **why)
{
    (void)need, (void)why;
    static const alloc_stack_options defaults = {0};
    out->options = &defaults;
    return 0;
}

#define STACK_WORKLOADS                                                                               \
    (WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FREEALL) | WL_BIT(WL_REALLOC_DOUBLE) |     \
     WL_BIT(WL_REALLOC_STEP))

BENCH_DESC_CONTENDER(stack_row, desc_stack_pages, stack_args, true,
    .name = "stack",
    .family = "handle",
    .what = "alloc_stack over the page allocator (chunks, defaults), through the handle; free-all = alloc_stack_reset",
    .workloads = STACK_WORKLOADS,
    .impl = &bench_impl_handle)

static void *si_alloc(void *st, size_t len, size_t align)
{
    return alloc_stack_alloc_fast(BENCH_DESC_OBJECT(alloc_stack, st), len, align);
}

static const bench_ops stack_inline_ops = {si_alloc, bench_handle_free, bench_handle_realloc, bench_handle_reset};
BENCH_IMPL(bench_impl_stack_inline, "stack-inline", &stack_inline_ops)

BENCH_DESC_CONTENDER(stack_inline_row, desc_stack_pages, stack_args, true,
    .name = "stack-inline",
    .family = "inline",
    .what = "alloc_stack_alloc_fast (inline) for the push; pops through the handle",
    .workloads = WL_BIT(WL_PAIRED) | WL_BIT(WL_LIFO) | WL_BIT(WL_BATCH_FREEALL),
    .impl = &bench_impl_stack_inline)
