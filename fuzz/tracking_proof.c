/*
 * tracking_proof.c: commits one deliberate memory error inside an allocator's
 * own memory, to prove that AddressSanitizer or Valgrind reports it (which
 * they can only do because the allocator tells them, through core/track.h,
 * which bytes are handed out).
 *
 *   tracking_proof <allocator> <uaf|overrun>
 *
 * Exit status: the tool's (non-zero) when the error is reported; 0 with
 * "NOT DETECTED" when it slipped through, or 2 for bad arguments. CI runs it
 * under the asan build and under valgrind and requires a non-zero status.
 */
#include <stdio.h>
#include <string.h>

#include "alloc/alloc.h"
#if ALLOC_PROOF_HAVE_DEBUG
#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#endif
#if ALLOC_PROOF_HAVE_FREELIST
#include "alloc/freelist.h"
#endif

#define LEN 40 /* not a multiple of 16: rounding slack must not hide an overrun */

static int commit(allocator a, const char *error)
{
    volatile unsigned char *p = alloc_bytes(a, LEN, 8);
    if (!p) {
        fprintf(stderr, "allocation failed\n");
        return 2;
    }
    memset((void *)p, 1, LEN);
    if (strcmp(error, "overrun") == 0) {
        p[LEN] = 7; /* one past the end */
        alloc_free(a, (void *)p, LEN, 8);
    } else if (strcmp(error, "uaf") == 0) {
        /* Keep a neighbour live so the freed block stays inside the allocator. */
        void *keep = alloc_bytes(a, LEN, 8);
        alloc_free(a, (void *)p, LEN, 8);
        p[LEN / 2] = 9; /* write after free */
        alloc_free(a, keep, LEN, 8);
    } else {
        return 2;
    }
    printf("NOT DETECTED\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tracking_proof <allocator> <uaf|overrun>\n");
        return 2;
    }
    const char *which = argv[1], *error = argv[2];
#if ALLOC_PROOF_HAVE_DEBUG
    if (strcmp(which, "debug") == 0) {
        /* The canary after each block is what the tools watch here. */
        alloc_debug d;
        if (alloc_debug_init(&d, alloc_c_allocator(), NULL) != 0) return 2;
        return commit(alloc_debug_allocator(&d), error);
    }
#endif
#if ALLOC_PROOF_HAVE_FREELIST
    if (strcmp(which, "freelist") == 0) {
        static alloc_freelist heap;
        if (alloc_freelist_init(&heap, NULL) != 0) return 2;
        return commit(alloc_freelist_allocator(&heap), error);
    }
#endif
    fprintf(stderr, "unknown allocator: %s\n", which);
    return 2;
}
