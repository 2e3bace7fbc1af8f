/*
 * The hot path of the size-class pools, in a function of its own so that
 * callgrind can count its instructions exactly. As a test it only checks that
 * the loop reuses one slot; to measure, build Release and run:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *            --toggle-collect='pair_*' bench/callgrind_slab
 *   callgrind_annotate --inclusive=yes cg.out | grep pair_
 *
 * Ir / PAIRS is the cost of one alloc + free pair through the handle,
 * including 2 instructions of loop control; quoted in include/alloc/slab.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "alloc/slab.h"

enum { PAIRS = 100000 };

ALLOC_NOINLINE static void *pair_handle_slab(allocator a)
{
    void *last = NULL;
    for (int i = 0; i < PAIRS; i++) {
        void *p = alloc_bytes(a, 32, 8);
        last = p;
        alloc_free(a, p, 32, 8);
    }
    return last;
}

int main(void)
{
    int bad = 0;
    void *warm;
    alloc_slab *slab = malloc(sizeof *slab);
    if (!slab || alloc_slab_init(slab, NULL) != 0) return 1;
    allocator sa = alloc_slab_allocator(slab);
    void *keep = alloc_bytes(sa, 32, 8); /* keeps the slab from emptying */
    warm = alloc_bytes(sa, 32, 8);
    alloc_free(sa, warm, 32, 8);
    void *last = pair_handle_slab(sa);
    if (last == NULL || last != warm) {
        fprintf(stderr, "slab handle: expected the same slot back every time\n");
        bad = 1;
    }
    alloc_free(sa, keep, 32, 8);
    alloc_slab_deinit(slab);
    free(slab);

    if (!bad) printf("test_slab_callgrind: passed\n");
    return bad;
}
