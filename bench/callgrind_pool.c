/*
 * The hot paths of the pools, in functions of their own so that callgrind can
 * count their instructions exactly. As a test (ctest) it only checks that each
 * loop behaves (LIFO reuse of one slot); to measure, build Release and run:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *            --toggle-collect='pair_*' bench/callgrind_pool
 *   callgrind_annotate cg.out | grep pair_
 *
 * Each pair_* function runs PAIRS alloc + free pairs; Ir / PAIRS is the cost
 * of one pair including its loop overhead (2-3 instructions). The figures are
 * quoted in include/alloc/pool.h (bench/callgrind_slab.c does the same
 * for the size-class pools).
 */
#include <stdio.h>
#include <stdlib.h>

#include "alloc/pool.h"

enum { PAIRS = 100000 };

/* Keeps the compiler from merging the identical copies below into one. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_MERGE __attribute__((noipa))
#else
#define NO_MERGE
#endif

/* alloc_bytes + alloc_free through the handle (vtable calls); one copy per
 * allocator so that callgrind reports each separately. */
#define PAIR_HANDLE(name)                              \
    ALLOC_NOINLINE NO_MERGE static void *name(allocator a) \
    {                                                  \
        void *last = NULL;                             \
        for (int i = 0; i < PAIRS; i++) {              \
            void *p = alloc_bytes(a, 32, 8);           \
            last = p;                                  \
            alloc_free(a, p, 32, 8);                   \
        }                                              \
        return last;                                   \
    }
PAIR_HANDLE(pair_handle_pool)
PAIR_HANDLE(pair_handle_pool_mt)

/* The inline fast path of the single-threaded pool. */
ALLOC_NOINLINE static void *pair_inline(alloc_pool *pool)
{
    void *last = NULL;
    for (int i = 0; i < PAIRS; i++) {
        void *p = alloc_pool_get(pool);
        last = p;
        alloc_pool_put(pool, p);
    }
    return last;
}

/* The thread-safe pool without the handle. */
ALLOC_NOINLINE static void *pair_mt_direct(alloc_pool_mt *pool)
{
    void *last = NULL;
    for (int i = 0; i < PAIRS; i++) {
        void *p = alloc_pool_mt_get(pool);
        last = p;
        alloc_pool_mt_put(pool, p);
    }
    return last;
}

static int check(const char *what, void *first, void *last)
{
    if (first == NULL || first != last) {
        fprintf(stderr, "%s: expected the same slot back every time\n", what);
        return 1;
    }
    return 0;
}

int main(void)
{
    int bad = 0;
    alloc_pool pool;
    if (alloc_pool_init(&pool, &(alloc_pool_config){.obj_size = 32, .obj_align = 8}) != 0) return 1;
    void *warm = alloc_pool_get(&pool); /* the first slab is taken outside the measured loops */
    alloc_pool_put(&pool, warm);
    bad |= check("pool handle", warm, pair_handle_pool(alloc_pool_allocator(&pool)));
    bad |= check("pool inline", warm, pair_inline(&pool));
    alloc_stats s;
    alloc_pool_stats(&pool, &s);
    if (s.alloc_count != 2 * PAIRS + 1 || s.bytes_in_use != 0) bad = 1;
    alloc_pool_deinit(&pool);

    alloc_pool_mt *mt = aligned_alloc(64, sizeof *mt);
    if (!mt || alloc_pool_mt_init(mt, &(alloc_pool_config){.obj_size = 32, .obj_align = 8}) != 0) return 1;
    warm = alloc_pool_mt_get(mt);
    alloc_pool_mt_put(mt, warm);
    bad |= check("pool_mt direct", warm, pair_mt_direct(mt));
    bad |= check("pool_mt handle", warm, pair_handle_pool_mt(alloc_pool_mt_allocator(mt)));
    alloc_pool_mt_deinit(mt);
    free(mt);

    if (!bad) printf("test_pool_callgrind: passed\n");
    return bad;
}
