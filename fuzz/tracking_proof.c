/*
 * tracking_proof.c: commits one deliberate memory error inside an allocator's
 * own memory, to prove that AddressSanitizer or Valgrind reports it (which
 * they can only do because the allocator tells them, through core/track.h,
 * which bytes are handed out).
 *
 *   tracking_proof <allocator> <uaf|overrun>
 *
 * Exit status: under ASan, the sanitizer's (non-zero) when the error is
 * reported, else 0 with "NOT DETECTED"; 2 for bad arguments. Under memcheck
 * the program runs on after the report (and prints NOT DETECTED): what
 * counts there is memcheck's "Invalid write" and its error exit status. The
 * asan build runs it as ctest tests; the Valgrind CI job under memcheck.
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
#if ALLOC_PROOF_HAVE_BUMP
#include "alloc/bump.h"
#endif
#if ALLOC_PROOF_HAVE_POOL
#include "alloc/pool.h"
#endif
#if ALLOC_PROOF_HAVE_STACK
#include "alloc/stack.h"
#endif
#if ALLOC_PROOF_HAVE_ARENA
#include "alloc/arena.h"
#endif
#if ALLOC_PROOF_HAVE_SLAB
#include "alloc/slab.h"
#endif
#if ALLOC_PROOF_HAVE_GLOBAL
#include "alloc/global.h"
#endif

#define LEN 40 /* not a multiple of 16: rounding slack must not hide an overrun */

static int commit_len(allocator a, const char *error, size_t len);
static int commit(allocator a, const char *error) { return commit_len(a, error, LEN); }

static int commit_len(allocator a, const char *error, size_t len)
{
    /* A neighbour allocated first keeps the block inside the allocator's
     * memory after its free, and the block is the newest, so freeing it is
     * legal for LIFO strategies too. */
    void *keep = alloc_bytes(a, len, 8);
    volatile unsigned char *p = alloc_bytes(a, len, 8);
    if (!keep || !p) {
        fprintf(stderr, "allocation failed\n");
        return 2;
    }
    memset((void *)p, 1, len);
    if (strcmp(error, "overrun") == 0) {
        p[len] = 7; /* one past the end */
        alloc_free(a, (void *)p, len, 8);
    } else if (strcmp(error, "uaf") == 0) {
        alloc_free(a, (void *)p, len, 8);
        p[len / 2] = 9; /* write after free */
    } else {
        return 2;
    }
    alloc_free(a, keep, len, 8);
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
        static alloc_debug d;
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
#if ALLOC_PROOF_HAVE_BUMP
    if (strcmp(which, "bump") == 0) {
        static _Alignas(16) unsigned char buf[4096];
        static alloc_bump b;
        if (alloc_bump_init(&b, buf, sizeof buf) != 0) return 2;
        return commit(alloc_bump_allocator(&b), error);
    }
#endif
#if ALLOC_PROOF_HAVE_POOL
    /* a slot larger than the block: the tail must be off limits */
    const alloc_pool_config pool_config = {.obj_size = 48, .obj_align = 8};
    if (strcmp(which, "pool") == 0) {
        static alloc_pool pool;
        if (alloc_pool_init(&pool, &pool_config) != 0) return 2;
        return commit(alloc_pool_allocator(&pool), error);
    }
    if (strcmp(which, "pool_mt") == 0) {
        /* the lock-free pool: its pop peeks at free slots without opening them */
        static alloc_pool_mt pool;
        if (alloc_pool_mt_init(&pool, &pool_config) != 0) return 2;
        return commit(alloc_pool_mt_allocator(&pool), error);
    }
#endif
#if ALLOC_PROOF_HAVE_STACK
    if (strcmp(which, "stack") == 0) {
        static _Alignas(16) unsigned char buf[4096];
        static alloc_stack st;
        if (alloc_stack_init_buffer(&st, buf, sizeof buf) != 0) return 2;
        return commit(alloc_stack_allocator(&st), error);
    }
#endif
#if ALLOC_PROOF_HAVE_ARENA
    if (strcmp(which, "arena") == 0) {
        static alloc_arena ar;
        if (alloc_arena_init(&ar, NULL) != 0) return 2;
        return commit(alloc_arena_allocator(&ar), error);
    }
#endif
#if ALLOC_PROOF_HAVE_SLAB
    if (strcmp(which, "slab") == 0) {
        static alloc_slab sl;
        if (alloc_slab_init(&sl, NULL) != 0) return 2;
        return commit(alloc_slab_allocator(&sl), error);
    }
#endif
#if ALLOC_PROOF_HAVE_GLOBAL
    if (strcmp(which, "global") == 0) {
        /* The malloc adapter's handle, with a block of its page heap: its
         * small blocks are open to the tools up to their size class (what
         * malloc_usable_size promises), so an overrun into the rounding
         * slack of one is legal; past a large block's requested length the
         * span's or page's rest is closed. */
        return commit_len(alloc_global_allocator(), error, 300000);
    }
#endif
    fprintf(stderr, "unknown allocator: %s\n", which);
    return 2;
}
