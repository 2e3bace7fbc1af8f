/*
 * contender_desc.h: strategy contenders made from a descriptor
 * (tests/descriptors): the descriptor says how to make, check and reset the
 * allocator; the contender file says how a workload's need sizes it and which
 * workloads it joins. Included by the contender_<folder>.c files only.
 */
#ifndef ALLOC_BENCH_CONTENDER_DESC_H
#define ALLOC_BENCH_CONTENDER_DESC_H

#include "bench.h"
#include "descriptor.h"

/* The state of a descriptor contender: the handle, the instance, and the
 * strategy's object in place (at a fixed offset, as inline impls want it:
 * BENCH_DESC_OBJECT). */
typedef struct bench_desc_state {
    bench_handle h; /* first: the handle impl reads it */
    desc_instance d;
    _Alignas(64) unsigned char object[];
} bench_desc_state;

#define BENCH_DESC_OBJECT(T, st) ((T *)(void *)((bench_desc_state *)(st))->object)

/* How one sample's need sizes the descriptor's args: 0, or -1 with *why set
 * when the contender cannot meet it (the pair is then skipped). */
typedef int (*bench_desc_args_fn)(const bench_need *need, desc_args *out, const char **why);

/* create/destroy/check of a descriptor contender (contender_core.c). The
 * state's memory is mapped outside the heaps measured; reset is the
 * descriptor's when use_reset, else none. */
int bench_desc_create(const descriptor *d, bench_desc_args_fn args, bool use_reset, const bench_need *need,
                      void **state, const char **why);
void bench_desc_destroy(void *state);
bool bench_desc_check(void *state);

/* Defines and registers a contender made from descriptor desc (args: NULL
 * or a bench_desc_args_fn), with the other bench_contender fields given. */
#define BENCH_DESC_CONTENDER(ident, desc, args, use_reset, ...)                                   \
    static int ident##_create(const bench_need *need, void **state, const char **why)             \
    {                                                                                             \
        return bench_desc_create(&(desc), args, use_reset, need, state, why);                     \
    }                                                                                             \
    BENCH_CONTENDER(ident, {__VA_ARGS__, .create = ident##_create, .destroy = bench_desc_destroy, \
                            .check = bench_desc_check})

#endif /* ALLOC_BENCH_CONTENDER_DESC_H */
