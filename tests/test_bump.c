/* Bump allocator: strategy-specific tests (the conformance suite covers the
 * generic contract). The invariant checker runs after every operation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/bump.h"
#include "alloc/diag.h"
#include "core/track.h"

#define CHECKED(b) cr_assert(alloc_bump_check(b), "invariant check failed at line %d", __LINE__)

static alloc_stats stats_of(const alloc_bump *b)
{
    alloc_stats s;
    alloc_bump_stats(b, &s);
    return s;
}

Test(bump, init_rejects_bad_arguments)
{
    alloc_bump b;
    unsigned char buf[16];
    cr_assert_eq(alloc_bump_init(NULL, buf, sizeof buf), -EINVAL);
    cr_assert_eq(alloc_bump_init(&b, NULL, 16), -EINVAL);
    cr_assert_eq(alloc_bump_init(&b, buf, ALLOC_MAX_LEN + (size_t)1), -EINVAL);
    cr_assert_eq(alloc_bump_init(&b, (void *)(UINTPTR_MAX - 8), 64), -EINVAL);
    cr_assert_eq(alloc_bump_init(&b, NULL, 0), 0, "an empty bump is valid");
    CHECKED(&b);
    cr_assert_null(alloc_bytes(alloc_bump_allocator(&b), 1, 1));
    alloc_bump_deinit(&b);
}

Test(bump, stack_buffer_alloc_owns_remaining)
{
    _Alignas(64) unsigned char buf[1024];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator a = alloc_bump_allocator(&b);
    cr_assert_eq(alloc_bump_remaining(&b), sizeof buf);
    char *p = alloc_bytes(a, 100, 8);
    CHECKED(&b);
    cr_assert_eq((void *)p, (void *)buf, "first block starts the buffer");
    memset(p, 'x', 100);
    cr_assert(alloc_bump_owns(&b, p) && alloc_bump_owns(&b, p + 99));
    cr_assert(!alloc_bump_owns(&b, p + 100), "bytes above the top are not handed out");
    cr_assert(!alloc_bump_owns(&b, buf + sizeof buf));
    cr_assert_eq(alloc_bump_used(&b), 100);
    cr_assert_eq(alloc_bump_remaining(&b), sizeof buf - 100);
    int *q = alloc_create(a, int);
    CHECKED(&b);
    cr_assert(alloc_is_aligned(q, _Alignof(int)));
    cr_assert_geq((uintptr_t)q, (uintptr_t)(p + 100));
    alloc_stats s = stats_of(&b);
    cr_assert_eq(s.alloc_count, 2);
    cr_assert_eq(s.bytes_in_use, 100 + sizeof(int));
    cr_assert_eq(s.bytes_reserved, sizeof buf);
    alloc_bump_deinit(&b);
}

Test(bump, alignment_up_to_4096)
{
    static _Alignas(4096) unsigned char buf[64 << 10];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator a = alloc_bump_allocator(&b);
    for (size_t align = 1; align <= 4096; align *= 2) {
        void *misalign = alloc_bytes(a, 3, 1); /* push the top off any boundary */
        cr_assert_not_null(misalign);
        unsigned char *p = alloc_bytes(a, 5, align);
        CHECKED(&b);
        cr_assert_not_null(p, "align %zu", align);
        cr_assert(alloc_is_aligned(p, align), "%p not aligned to %zu", (void *)p, align);
        memset(p, 0xEE, 5);
    }
    alloc_bump_deinit(&b);
}

Test(bump, exhaustion_returns_null_and_changes_nothing)
{
    _Alignas(64) unsigned char buf[256];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator a = alloc_bump_allocator(&b);
    unsigned char *p = alloc_bytes(a, 200, 16);
    cr_assert_not_null(p);
    memset(p, 7, 200);
    alloc_bump_mark before = alloc_bump_save(&b);
    alloc_stats s0 = stats_of(&b);
    cr_assert_null(alloc_bytes(a, 57, 1), "57 bytes do not fit in 56");
    cr_assert_null(alloc_bytes(a, 40, 32), "padding counts: 24 + 40 > 56 at align 32");
    cr_assert_null(alloc_bytes(a, ALLOC_MAX_LEN, 1));
    CHECKED(&b);
    alloc_stats s1 = stats_of(&b);
    cr_assert_eq(alloc_bump_save(&b).top, before.top, "a failed alloc moved the top");
    cr_assert_eq(s1.failed_count, s0.failed_count + 3);
    cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use);
    cr_assert_eq(s1.alloc_count, s0.alloc_count);
    for (int i = 0; i < 200; i++) cr_assert_eq(p[i], 7);
    /* Exactly the rest still fits. */
    cr_assert_not_null(alloc_bytes(a, 56, 1));
    cr_assert_eq(alloc_bump_remaining(&b), 0);
    CHECKED(&b);
    alloc_bump_deinit(&b);
}

Test(bump, free_and_resize_of_last_only)
{
    _Alignas(16) unsigned char buf[512];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator a = alloc_bump_allocator(&b);
    unsigned char *x = alloc_bytes(a, 32, 16);
    unsigned char *y = alloc_bytes(a, 32, 16);
    CHECKED(&b);
    cr_assert(!alloc_resize(a, x, 32, 16, 48), "a block under another cannot grow");
    cr_assert(!alloc_resize(a, x, 32, 16, 16), "nor shrink");
    cr_assert(alloc_resize(a, y, 32, 16, 100), "the top block grows in place");
    CHECKED(&b);
    cr_assert_eq(alloc_bump_used(&b), 132);
    cr_assert(alloc_resize(a, y, 100, 16, 8));
    cr_assert_eq(alloc_bump_used(&b), 40);
    cr_assert(!alloc_resize(a, y, 8, 16, 512), "past the end of the buffer");
    cr_assert_null(alloc_remap(a, y, 8, 16, 512));
    cr_assert_eq(alloc_remap(a, y, 8, 16, 64), y, "remap of the top block is a resize");
    CHECKED(&b);

    alloc_free(a, x, 32, 16); /* not the last: stranded */
    CHECKED(&b);
    cr_assert_eq(alloc_bump_stranded(&b), 1);
    cr_assert_eq(alloc_bump_used(&b), 96, "a stranded free gives nothing back");
    alloc_free(a, y, 64, 16);
    CHECKED(&b);
    cr_assert_eq(alloc_bump_used(&b), 32, "the top returns to the freed block");
    alloc_stats s = stats_of(&b);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_eq(s.free_count, 2);
    cr_assert_eq(s.resize_count, 3);
    alloc_bump_deinit(&b);
}

Test(bump, nested_savepoints_and_reset)
{
    _Alignas(16) unsigned char buf[4096];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator a = alloc_bump_allocator(&b);
    char *keep = alloc_strdup(a, "kept across rollbacks");
    alloc_bump_mark outer = alloc_bump_save(&b);
    size_t left_outer = alloc_bump_remaining(&b);
    cr_assert_not_null(alloc_bytes(a, 100, 8));
    alloc_bump_mark inner = alloc_bump_save(&b);
    size_t left_inner = alloc_bump_remaining(&b);
    cr_assert_not_null(alloc_bytes(a, 1000, 64));
    cr_assert_not_null(alloc_bytes(a, 10, 1));
    CHECKED(&b);
    cr_assert_eq(alloc_bump_rollback(&b, inner), 0);
    CHECKED(&b);
    cr_assert_eq(alloc_bump_remaining(&b), left_inner);
    cr_assert_eq(stats_of(&b).bytes_in_use, strlen(keep) + 1 + 100);
    cr_assert_eq(alloc_bump_rollback(&b, outer), 0);
    CHECKED(&b);
    cr_assert_eq(alloc_bump_remaining(&b), left_outer);
    cr_assert_str_eq(keep, "kept across rollbacks");
    cr_assert_eq(stats_of(&b).bytes_in_use, strlen(keep) + 1);

    alloc_bump_reset(&b);
    CHECKED(&b);
    cr_assert_eq(alloc_bump_remaining(&b), sizeof buf);
    alloc_stats s = stats_of(&b);
    cr_assert_eq(s.bytes_in_use, 0);
    cr_assert_geq(s.peak_bytes_in_use, (size_t)(22 + 1110), "peaks survive a reset (peak %zu)", s.peak_bytes_in_use);
    alloc_bump_deinit(&b);
}

static int misuse_seen;
static void count_misuse(const char *msg, void *user)
{
    (void)msg, (void)user;
    misuse_seen++;
}

Test(bump, stale_savepoint_is_refused)
{
    _Alignas(16) unsigned char buf[256];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator a = alloc_bump_allocator(&b);
    cr_assert_not_null(alloc_bytes(a, 64, 8));
    alloc_bump_mark m = alloc_bump_save(&b);
    alloc_bump_reset(&b);
    cr_assert_not_null(alloc_bytes(a, 8, 8));
    size_t used = alloc_bump_used(&b);
    alloc_set_misuse_handler(count_misuse, NULL);
    misuse_seen = 0;
    cr_assert_eq(alloc_bump_rollback(&b, m), -EINVAL);
    alloc_set_misuse_handler(NULL, NULL);
    CHECKED(&b);
    cr_assert_eq(alloc_bump_used(&b), used, "a refused rollback changes nothing");
    cr_assert_eq(stats_of(&b).misuse_count, 1);
    cr_assert_eq(misuse_seen, ALLOC_DEBUG >= 1 ? 1 : 0);
    alloc_bump_deinit(&b);
}

Test(bump, fast_path_matches_vtable_path)
{
    static _Alignas(64) unsigned char buf1[2048], buf2[2048];
    alloc_bump b1, b2;
    cr_assert_eq(alloc_bump_init(&b1, buf1, sizeof buf1), 0);
    cr_assert_eq(alloc_bump_init(&b2, buf2, sizeof buf2), 0);
    allocator a2 = alloc_bump_allocator(&b2);
    for (size_t i = 1; i < 200; i++) {
        size_t len = i * 7 % 61 + 1, align = (size_t)1 << (i % 7);
        unsigned char *p = alloc_bump_alloc_fast(&b1, len, align);
        unsigned char *q = alloc_bytes(a2, len, align);
        cr_assert_eq(p == NULL, q == NULL);
        if (!p) break;
        cr_assert_eq(p - buf1, q - buf2, "fast and vtable paths disagree at %zu", i);
        CHECKED(&b1);
    }
    alloc_stats s1 = stats_of(&b1), s2 = stats_of(&b2);
    cr_assert_eq(s1.alloc_count, s2.alloc_count);
    cr_assert_eq(s1.bytes_in_use, s2.bytes_in_use);
    cr_assert_eq(s1.failed_count, s2.failed_count);
    cr_assert_eq(s1.failed_count, 1, "the fast path counts the failure through the slow path");
    alloc_bump_deinit(&b1);
    alloc_bump_deinit(&b2);
}

/* --- thread-safe handle --------------------------------------------------- */

#define TS_THREADS 4
#define TS_BLOCKS 2000

typedef struct ts_job {
    allocator a;
    unsigned id;
    unsigned char *blocks[TS_BLOCKS];
    size_t got;
} ts_job;

static void *ts_worker(void *arg)
{
    ts_job *job = arg;
    for (size_t i = 0; i < TS_BLOCKS; i++) {
        size_t len = 8 + (i + job->id) % 24;
        unsigned char *p = alloc_bytes(job->a, len, 8);
        if (!p) break;
        memset(p, (int)job->id, len);
        job->blocks[job->got++] = p;
        if (i % 5 == 4) {
            /* Shrink-then-free of the newest block only works while no
             * other thread has allocated above it; both outcomes are legal. */
            if (alloc_resize(job->a, p, len, 8, 8)) memset(p, (int)job->id, 8);
            else memset(p, (int)job->id, len);
        }
    }
    return NULL;
}

Test(bump, threadsafe_handle_never_hands_out_a_byte_twice)
{
    size_t cap = (size_t)TS_THREADS * TS_BLOCKS * 32;
    unsigned char *buf = malloc(cap);
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, cap), 0);
    static ts_job jobs[TS_THREADS];
    pthread_t t[TS_THREADS];
    for (unsigned i = 0; i < TS_THREADS; i++) {
        jobs[i] = (ts_job){.a = alloc_bump_allocator_threadsafe(&b), .id = i + 1};
        cr_assert_eq(pthread_create(&t[i], NULL, ts_worker, &jobs[i]), 0);
    }
    for (unsigned i = 0; i < TS_THREADS; i++) pthread_join(t[i], NULL);
    CHECKED(&b);
    uint64_t total = 0;
    for (unsigned i = 0; i < TS_THREADS; i++) {
        total += jobs[i].got;
        /* Every block still holds its owner's id in its first 8 bytes: no
         * other thread was given any of them. */
        for (size_t k = 0; k < jobs[i].got; k++)
            for (int j = 0; j < 8; j++) cr_assert_eq(jobs[i].blocks[k][j], i + 1, "thread %u block %zu", i, k);
    }
    alloc_stats s = stats_of(&b);
    cr_assert_eq(s.alloc_count, total);
    cr_assert_leq(alloc_bump_used(&b), cap);
    alloc_bump_deinit(&b);
    free(buf);
}

/* --- debug-build misuse detection ----------------------------------------- */

#if ALLOC_DEBUG >= 1
Test(bump, debug_build_fills_released_bytes)
{
    _Alignas(16) unsigned char buf[128];
    alloc_bump b;
    alloc_bump_init(&b, buf, sizeof buf);
    allocator a = alloc_bump_allocator(&b);
    alloc_bump_mark m = alloc_bump_save(&b);
    unsigned char *p = alloc_bytes(a, 32, 8);
    memset(p, 1, 32);
    alloc_bump_rollback(&b, m);
    alloc_bump_deinit(&b); /* unpoisons, so the bytes may be inspected */
    for (int i = 0; i < 32; i++) cr_assert_eq(buf[i], 0x55, "byte %d", i);
}
#endif

/* --- sanitizer proof ------------------------------------------------------- */

#if ALLOC_TRACK_ASAN_ENABLED
/* Out of line, so the compiler cannot drop the check as redundant with an
 * earlier check of the same address in the caller. */
ALLOC_NOINLINE static unsigned char read_byte(volatile unsigned char *p) { return *p; }

Test(bump, asan_reports_read_after_rollback, .signal = SIGABRT)
{
    static _Alignas(16) unsigned char buf[256];
    alloc_bump b;
    alloc_bump_init(&b, buf, sizeof buf);
    alloc_bump_mark m = alloc_bump_save(&b);
    volatile unsigned char *p = alloc_bytes(alloc_bump_allocator(&b), 64, 16);
    p[0] = 1;
    alloc_bump_rollback(&b, m);
    read_byte(p); /* ASan: use of poisoned memory -> abort */
}

Test(bump, asan_reports_read_after_reset, .signal = SIGABRT)
{
    static _Alignas(16) unsigned char buf[256];
    alloc_bump b;
    alloc_bump_init(&b, buf, sizeof buf);
    volatile unsigned char *p = alloc_bytes(alloc_bump_allocator(&b), 64, 16);
    p[10] = 1;
    alloc_bump_reset(&b);
    read_byte(p + 10);
}

Test(bump, asan_reports_overrun_into_free_space, .signal = SIGABRT)
{
    static _Alignas(16) unsigned char buf[256];
    alloc_bump b;
    alloc_bump_init(&b, buf, sizeof buf);
    volatile unsigned char *p = alloc_bytes(alloc_bump_allocator(&b), 16, 16);
    p[16] = 1; /* one past the block: never handed out */
}
#else
Test(bump, rollback_releases_exactly_what_followed_the_mark)
{
    /* Without ASan the proof is the bookkeeping: the bytes handed out after
     * the mark are exactly the ones given back, and reusable. */
    _Alignas(16) unsigned char buf[256];
    alloc_bump b;
    alloc_bump_init(&b, buf, sizeof buf);
    allocator a = alloc_bump_allocator(&b);
    cr_assert_not_null(alloc_bytes(a, 24, 8));
    alloc_bump_mark m = alloc_bump_save(&b);
    size_t left = alloc_bump_remaining(&b);
    unsigned char *p = alloc_bytes(a, 64, 16);
    cr_assert_not_null(p);
    alloc_bump_rollback(&b, m);
    CHECKED(&b);
    cr_assert_eq(alloc_bump_remaining(&b), left);
    cr_assert(!alloc_bump_owns(&b, p), "a rolled-back block is no longer owned");
    cr_assert_eq(alloc_bytes(a, 64, 16), p, "and its bytes are handed out again");
    alloc_bump_deinit(&b);
}
#endif

/* --- savepoints and pops (issue: rollback after a legal pop) ---------------- */

Test(bump, rollback_after_popping_the_block_before_the_savepoint)
{
    static _Alignas(16) unsigned char buf[4096];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator h = alloc_bump_allocator(&b);
    void *keep = alloc_bytes(h, 100, 8);
    void *p = alloc_bytes(h, 100, 8);
    alloc_bump_mark m = alloc_bump_save(&b);
    alloc_free(h, p, 100, 8); /* the newest block: a legal pop */
    CHECKED(&b);
    cr_assert_eq(stats_of(&b).bytes_in_use, 100);
    void *q = alloc_bytes(h, 100, 8);
    cr_assert_neq(q, p, "the pop below the savepoint let a later block land under it");
    cr_assert_eq(alloc_bump_rollback(&b, m), 0);
    CHECKED(&b);
    cr_assert_eq(stats_of(&b).bytes_in_use, 100);
    cr_assert_eq(stats_of(&b).misuse_count, 0);
    cr_assert(alloc_bump_owns(&b, keep));
    cr_assert(!alloc_bump_owns(&b, q));
    cr_assert_eq(alloc_bump_rollback(&b, m), 0, "the mark stays usable");
    alloc_bump_deinit(&b);
}

Test(bump, block_between_two_savepoints_popped_inside_the_inner_scope)
{
    static _Alignas(16) unsigned char buf[4096];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator h = alloc_bump_allocator(&b);
    void *outer = alloc_bytes(h, 64, 8);
    alloc_bump_mark m1 = alloc_bump_save(&b);
    void *x = alloc_bytes(h, 48, 8);
    alloc_bump_mark m2 = alloc_bump_save(&b);
    alloc_free(h, x, 48, 8);
    cr_assert(!alloc_resize(h, outer, 64, 8, 8), "a block from before the savepoints shrank under them");
    cr_assert_not_null(alloc_bytes(h, 32, 8));
    cr_assert_eq(alloc_bump_rollback(&b, m2), 0);
    cr_assert_eq(stats_of(&b).bytes_in_use, 64);
    cr_assert_eq(alloc_bump_rollback(&b, m1), 0);
    cr_assert_eq(stats_of(&b).bytes_in_use, 64);
    CHECKED(&b);
    alloc_bump_mark n1 = alloc_bump_save(&b);
    x = alloc_bytes(h, 48, 8);
    alloc_bump_save(&b);
    alloc_free(h, x, 48, 8);
    alloc_free(h, outer, 64, 8);
    cr_assert_eq(alloc_bump_rollback(&b, n1), 0);
    cr_assert_eq(stats_of(&b).bytes_in_use, 0);
    CHECKED(&b);
    alloc_bump_deinit(&b);
}

Test(bump, threadsafe_handle_respects_the_savepoint_floor)
{
    static _Alignas(16) unsigned char buf[4096];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator h = alloc_bump_allocator_threadsafe(&b);
    void *p = alloc_bytes(h, 40, 8);
    alloc_bump_mark m = alloc_bump_save(&b);
    cr_assert(!alloc_resize(h, p, 40, 8, 80));
    alloc_free(h, p, 40, 8);
    void *q = alloc_bytes(h, 40, 8);
    cr_assert_neq(q, p);
    cr_assert_eq(alloc_bump_rollback(&b, m), 0);
    cr_assert_eq(stats_of(&b).bytes_in_use, 0);
    cr_assert_eq(alloc_bump_stranded(&b), 1);
    CHECKED(&b);
    alloc_bump_deinit(&b);
}

Test(bump, mark_from_before_a_reset_or_an_earlier_rollback_is_stale)
{
    static _Alignas(16) unsigned char buf[4096];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    allocator h = alloc_bump_allocator(&b);
    alloc_bump_mark outer = alloc_bump_save(&b);
    cr_assert_not_null(alloc_bytes(h, 64, 8));
    alloc_bump_mark inner = alloc_bump_save(&b);
    cr_assert_eq(alloc_bump_rollback(&b, outer), 0);
    cr_assert_not_null(alloc_bytes(h, 200, 8)); /* the top is above inner again */
    alloc_set_misuse_handler(count_misuse, NULL);
    cr_assert_eq(alloc_bump_rollback(&b, inner), -EINVAL, "inner was released by the outer rollback");
    alloc_bump_mark before_reset = alloc_bump_save(&b);
    alloc_bump_reset(&b);
    cr_assert_not_null(alloc_bytes(h, 400, 8));
    cr_assert_eq(alloc_bump_rollback(&b, before_reset), -EINVAL, "taken before a reset");
    alloc_set_misuse_handler(NULL, NULL);
    cr_assert_eq(stats_of(&b).misuse_count, 2);
    CHECKED(&b);
    alloc_bump_deinit(&b);
}

typedef struct bump_model_block {
    unsigned char *p;
    size_t len;
    unsigned char fill;
} bump_model_block;

Test(bump, randomized_model_of_pops_savepoints_and_rollbacks, .timeout = 120)
{
    enum { STEPS = 20000, MAX_LIVE = 256 };
    static _Alignas(64) unsigned char buf[1 << 20];
    static bump_model_block live[MAX_LIVE];
    static size_t live_at_mark[ALLOC_BUMP_LEVELS];
    static alloc_bump_mark marks[ALLOC_BUMP_LEVELS];
    unsigned seed = 777;
    for (int round = 0; round < 4; round++) {
        alloc_bump b;
        cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
        allocator h = round % 2 ? alloc_bump_allocator_threadsafe(&b) : alloc_bump_allocator(&b);
        size_t nlive = 0, nmarks = 0, model_in_use = 0;
        unsigned char next_fill = 1;
        for (int step = 0; step < STEPS; step++) {
            unsigned r = (unsigned)rand_r(&seed) % 100;
            if (r < 45 && nlive < MAX_LIVE && alloc_bump_remaining(&b) > 4096) {
                size_t len = 1 + (size_t)rand_r(&seed) % 200;
                size_t align = (size_t)1 << (rand_r(&seed) % 5);
                unsigned char *p = alloc_bytes(h, len, align);
                cr_assert_not_null(p);
                memset(p, next_fill, len);
                live[nlive++] = (bump_model_block){p, len, next_fill};
                next_fill = (unsigned char)(next_fill % 250 + 1);
                model_in_use += len;
            } else if (r < 65 && nlive > 0) {
                bump_model_block blk = live[--nlive];
                for (size_t j = 0; j < nmarks; j++)
                    if (live_at_mark[j] > nlive) live_at_mark[j] = nlive;
                alloc_free(h, blk.p, blk.len, 1);
                model_in_use -= blk.len;
            } else if (r < 72 && nlive > 0) {
                size_t k = (size_t)rand_r(&seed) % nlive;
                bump_model_block blk = live[k];
                memmove(&live[k], &live[k + 1], (nlive - k - 1) * sizeof *live);
                nlive--;
                for (size_t j = 0; j < nmarks; j++)
                    if (live_at_mark[j] > k) live_at_mark[j]--;
                alloc_free(h, blk.p, blk.len, 1);
                model_in_use -= blk.len;
            } else if (r < 86 && nmarks < ALLOC_BUMP_LEVELS) {
                live_at_mark[nmarks] = nlive;
                marks[nmarks++] = alloc_bump_save(&b);
            } else if (nmarks > 0) {
                size_t j = (size_t)rand_r(&seed) % nmarks;
                cr_assert_eq(alloc_bump_rollback(&b, marks[j]), 0, "step %d: rollback refused", step);
                while (nlive > live_at_mark[j]) model_in_use -= live[--nlive].len;
                nmarks = j + 1;
            } else if (nmarks == 0 && nlive == 0) {
                alloc_bump_reset(&b);
            }
            cr_assert(alloc_bump_check(&b), "step %d: invariant check failed", step);
            alloc_stats s = stats_of(&b);
            cr_assert_eq(s.bytes_in_use, model_in_use, "round %d step %d: in use %zu, model %zu", round, step,
                         s.bytes_in_use, model_in_use);
            cr_assert_eq(s.misuse_count, 0, "step %d", step);
            if (step % 64 == 0)
                for (size_t k = 0; k < nlive; k++)
                    for (size_t i = 0; i < live[k].len; i++)
                        cr_assert_eq(live[k].p[i], live[k].fill, "step %d: live block %zu overwritten", step, k);
        }
        alloc_bump_deinit(&b);
    }
}
