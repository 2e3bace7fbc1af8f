/*
 * test_locked.c: the locked wrapper shared by several threads, for both lock
 * kinds, over allocators that are not thread-safe themselves (a debug wrapper,
 * whose table any race would corrupt). Run under TSan by the CI's tsan job.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/locked.h"
#include "alloc/page.h"

enum { THREADS = 4, ROUNDS = 3000, SLOTS = 32 };

typedef struct worker {
    allocator a;
    unsigned seed;
    int errors;
} worker;

/* Each thread keeps its own blocks, filled with its own byte, and checks them
 * before freeing: a block handed to two threads at once shows up as a
 * mismatch (and as a race under TSan). */
static void *churn(void *arg)
{
    worker *w = arg;
    unsigned char *blocks[SLOTS] = {0};
    size_t lens[SLOTS] = {0};
    unsigned x = w->seed;
    unsigned char mark = (unsigned char)(w->seed & 0xFF);
    for (int r = 0; r < ROUNDS; r++) {
        x = x * 1103515245u + 12345u;
        size_t i = (x >> 8) % SLOTS;
        if (blocks[i]) {
            for (size_t k = 0; k < lens[i]; k++)
                if (blocks[i][k] != mark) w->errors++;
            if ((x >> 20) & 1) {
                size_t new_len = 1 + (x >> 4) % 300;
                unsigned char *q = alloc_realloc(w->a, blocks[i], lens[i], 8, new_len);
                if (q) {
                    memset(q, mark, new_len);
                    blocks[i] = q;
                    lens[i] = new_len;
                }
                continue;
            }
            alloc_free(w->a, blocks[i], lens[i], 8);
            blocks[i] = NULL;
        } else {
            lens[i] = 1 + (x >> 12) % 200;
            blocks[i] = alloc_bytes(w->a, lens[i], 8);
            if (!blocks[i]) {
                w->errors++;
                continue;
            }
            memset(blocks[i], mark, lens[i]);
        }
    }
    for (size_t i = 0; i < SLOTS; i++)
        if (blocks[i]) alloc_free(w->a, blocks[i], lens[i], 8);
    return NULL;
}

static void run_threads(allocator a)
{
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){a, 0x100u * (unsigned)(i + 1) + (unsigned)i, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, churn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].errors, 0, "thread %d saw %d damaged or missing blocks", i, w[i].errors);
    }
}

static void shared_debug_wrapper(alloc_lock_kind kind)
{
    alloc_debug dbg;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), NULL), 0);
    alloc_locked l;
    cr_assert_eq(alloc_locked_init(&l, alloc_debug_allocator(&dbg), kind), 0);
    run_threads(alloc_locked_allocator(&l));
    cr_assert(alloc_locked_check(&l));
    alloc_stats s;
    alloc_locked_stats(&l, &s);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_eq(s.alloc_count, s.free_count, "stats lost updates: %llu allocs, %llu frees",
                 (unsigned long long)s.alloc_count, (unsigned long long)s.free_count);
    cr_assert_gt(s.alloc_count, THREADS * ROUNDS / 4);
    alloc_locked_lock(&l);
    cr_assert(alloc_debug_check(&dbg), "the wrapped debug table was corrupted");
    alloc_locked_unlock(&l);
    alloc_stats ds;
    alloc_debug_stats(&dbg, &ds);
    cr_assert_eq(ds.alloc_count, s.alloc_count, "wrapper and inner disagree");
    cr_assert_eq(ds.misuse_count, 0);
    alloc_locked_deinit(&l);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0, "blocks leaked");
}

Test(locked, mutex_serialises_a_shared_debug_wrapper) { shared_debug_wrapper(ALLOC_LOCK_MUTEX); }

Test(locked, spin_lock_serialises_a_shared_debug_wrapper) { shared_debug_wrapper(ALLOC_LOCK_SPIN); }

Test(locked, page_allocator_through_spin_lock)
{
    alloc_locked l;
    cr_assert_eq(alloc_locked_init(&l, alloc_page_allocator(), ALLOC_LOCK_SPIN), 0);
    allocator a = alloc_locked_allocator(&l);
    void *p = alloc_bytes(a, 10000, 4096);
    cr_assert_not_null(p);
    cr_assert(alloc_is_aligned(p, 4096));
    p = alloc_realloc(a, p, 10000, 4096, 100000);
    cr_assert_not_null(p);
    alloc_free(a, p, 100000, 4096);
    alloc_stats s;
    alloc_locked_stats(&l, &s);
    cr_assert_eq(s.alloc_count, 1);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_eq(alloc_locked_contended(&l), 0, "a single thread found its lock held");
    alloc_locked_deinit(&l);
}

Test(locked, rejects_bad_arguments)
{
    alloc_locked l;
    cr_assert_eq(alloc_locked_init(&l, (allocator){NULL, NULL}, ALLOC_LOCK_MUTEX), -EINVAL);
    cr_assert_eq(alloc_locked_init(&l, alloc_c_allocator(), (alloc_lock_kind)7), -EINVAL);
}
