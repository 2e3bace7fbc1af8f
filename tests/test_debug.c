/*
 * test_debug.c: the debug wrapper. Contract checks observed through a misuse
 * handler (message contents, state unchanged), the same checks as death tests
 * with the default handler (abort), leak reports naming the allocating
 * function, canaries, fills, the table under growth and churn, stats.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/diag.h"
#include "alloc/failing.h"
#include "alloc/page.h"
#include "core/track.h"

/* --- helpers ---------------------------------------------------------------- */

static char last_misuse[1024];
static int misuse_calls;

static void record_misuse(const char *message, void *user)
{
    (void)user;
    snprintf(last_misuse, sizeof last_misuse, "%s", message);
    misuse_calls++;
}

static void observe_misuse(void)
{
    last_misuse[0] = '\0';
    misuse_calls = 0;
    alloc_set_misuse_handler(record_misuse, NULL);
}

static void stop_observing(void) { alloc_set_misuse_handler(NULL, NULL); }

/* Leak report lines collected by a sink. */
static char report[8192];

static void collect_line(const char *line, void *user)
{
    (void)user;
    size_t used = strlen(report);
    snprintf(report + used, sizeof report - used, "%s\n", line);
}

static alloc_debug dbg;

static allocator open_debug(allocator inner)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.sink = collect_line;
    report[0] = '\0';
    cr_assert_eq(alloc_debug_init(&dbg, inner, &o), 0);
    return alloc_debug_allocator(&dbg);
}

static void check(void) { cr_assert(alloc_debug_check(&dbg), "debug invariant check failed"); }

/* Writes one byte the tools consider off limits (a canary): the test means to. */
static void poke(void *p, unsigned char v)
{
    ALLOC_TRACK_DEFINED(p, 1);
    *(volatile unsigned char *)p = v;
}

/* The allocation sites of the leak tests: never inlined, so each is a
 * function of its own to name. The front-door macros record the site of the
 * call itself (ALLOC_CALL_SITE), so the allocation sits right in them. */
ALLOC_NOINLINE void *debug_test_leaky_function(allocator a);
ALLOC_NOINLINE void *debug_test_other_leaker(allocator a);

static void *volatile keep_alive;

ALLOC_NOINLINE void *debug_test_leaky_function(allocator a)
{
    void *p = alloc_bytes(a, 40, 8);
    keep_alive = p;
    return p;
}

ALLOC_NOINLINE void *debug_test_other_leaker(allocator a)
{
    void *p = alloc_bytes(a, 8, 8);
    keep_alive = p;
    return p;
}

/* --- correct use ---------------------------------------------------------------- */

Test(debug, passes_correct_use_through_and_tracks_it)
{
    allocator inners[] = {alloc_page_allocator(), alloc_c_allocator()};
    for (size_t k = 0; k < 2; k++) {
        allocator a = open_debug(inners[k]);
        unsigned char *p = alloc_bytes(a, 100, 16);
        cr_assert_not_null(p);
        cr_assert(alloc_is_aligned(p, 16));
        check();
        for (int i = 0; i < 100; i++) cr_assert_eq(p[i], 0xAA, "fresh block not filled with 0xAA");
        memset(p, 7, 100);
        alloc_debug_block b;
        cr_assert(alloc_debug_find(&dbg, p, &b));
        cr_assert_eq(b.len, 100);
        cr_assert_eq(b.align, 16);
        cr_assert_eq(b.serial, 1);
        cr_assert_neq(b.alloc_site, 0);
        p = alloc_realloc(a, p, 100, 16, 5000);
        cr_assert_not_null(p);
        check();
        for (int i = 0; i < 100; i++) cr_assert_eq(p[i], 7, "realloc lost contents");
        cr_assert(alloc_debug_find(&dbg, p, &b));
        cr_assert_eq(b.len, 5000);
        alloc_free(a, p, 5000, 16);
        check();
        cr_assert(!alloc_debug_find(&dbg, p, NULL));
        alloc_stats s;
        alloc_debug_stats(&dbg, &s);
        cr_assert_eq(s.alloc_count, 1);
        cr_assert_eq(s.free_count, 1);
        cr_assert_eq(s.bytes_in_use, 0);
        cr_assert_geq(s.peak_bytes_in_use, 5000);
        cr_assert_eq(alloc_debug_deinit(&dbg), 0);
        cr_assert_str_empty(report, "a clean run printed a leak report: %s", report);
    }
}

Test(debug, table_grows_and_survives_churn)
{
    allocator a = open_debug(alloc_c_allocator());
    enum { N = 3000 };
    static void *blocks[N];
    for (size_t i = 0; i < N; i++) {
        blocks[i] = alloc_bytes(a, 1 + i % 97, 1u << (i % 5));
        cr_assert_not_null(blocks[i]);
        if (i % 500 == 0) check();
    }
    check();
    /* Free every other block, reallocate, free the rest: freed records come
     * and go through the bounded history while live records stay findable. */
    for (size_t i = 0; i < N; i += 2) alloc_free(a, blocks[i], 1 + i % 97, 1u << (i % 5));
    check();
    for (size_t i = 0; i < N; i += 2) {
        blocks[i] = alloc_bytes(a, 1 + i % 97, 1u << (i % 5));
        cr_assert_not_null(blocks[i]);
    }
    for (size_t i = 0; i < N; i++) {
        cr_assert(alloc_debug_find(&dbg, blocks[i], NULL), "live block %zu lost", i);
        alloc_free(a, blocks[i], 1 + i % 97, 1u << (i % 5));
        if (i % 700 == 0) check();
    }
    check();
    cr_assert_eq(alloc_debug_live_blocks(&dbg, NULL), 0);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

static bool count_block(void *block, size_t len, bool used, void *user)
{
    cr_assert(block != NULL && len == 8 && used, "a live block of 8 bytes");
    ++*(size_t *)user;
    return true;
}

Test(debug, walker_visits_every_live_block)
{
    allocator a = open_debug(alloc_c_allocator());
    void *p[10];
    for (int i = 0; i < 10; i++) p[i] = alloc_bytes(a, 8, 8);
    alloc_free(a, p[3], 8, 8);
    size_t n = 0;
    cr_assert(alloc_debug_walk(&dbg, count_block, &n));
    cr_assert_eq(n, 9);
    for (int i = 0; i < 10; i++)
        if (i != 3) alloc_free(a, p[i], 8, 8);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

Test(debug, freed_memory_is_filled_and_remap_tracks_moves)
{
    /* The page allocator moves on remap when it cannot grow in place. */
    allocator a = open_debug(alloc_page_allocator());
    unsigned char *p = alloc_bytes(a, 4096, 8);
    unsigned char *blocker = alloc_bytes(a, 4096, 8); /* likely right after p */
    memset(p, 1, 4096);
    unsigned char *q = alloc_remap(a, p, 4096, 8, 1 << 20);
    cr_assert_not_null(q);
    check();
    for (int i = 0; i < 4096; i++) cr_assert_eq(q[i], 1);
    if (q != p) {
        /* The old address reads as freed by the remap. */
        observe_misuse();
        alloc_free(a, p, 4096, 8);
        stop_observing();
        cr_assert_eq(misuse_calls, 1);
        cr_assert(strstr(last_misuse, "double free") != NULL, "got: %s", last_misuse);
    }
    alloc_free(a, q, 1 << 20, 8);
    alloc_free(a, blocker, 4096, 8);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

/* --- misuse observed through a handler ---------------------------------------------- */

Test(debug, double_free_names_both_sites, .fini = stop_observing)
{
    allocator a = open_debug(alloc_c_allocator());
    void *p = debug_test_leaky_function(a);
    alloc_free(a, p, 40, 8);
    observe_misuse();
    alloc_free(a, p, 40, 8);
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "double free") != NULL, "got: %s", last_misuse);
    cr_assert(strstr(last_misuse, "debug_test_leaky_function") != NULL, "allocation site missing: %s",
              last_misuse);
    alloc_stats s;
    alloc_debug_stats(&dbg, &s);
    cr_assert_eq(s.misuse_count, 1);
    cr_assert_eq(s.free_count, 1, "the rejected free was counted");
    check();
    alloc_debug_deinit(&dbg);
}

Test(debug, foreign_free_is_rejected_and_changes_nothing, .fini = stop_observing)
{
    allocator a = open_debug(alloc_c_allocator());
    void *mine = alloc_bytes(a, 32, 8);
    static char not_mine[64];
    observe_misuse();
    alloc_free(a, not_mine, 32, 8);
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "foreign pointer") != NULL, "got: %s", last_misuse);
    cr_assert(!alloc_resize(a, not_mine, 32, 8, 16));
    cr_assert_null(alloc_remap(a, not_mine, 32, 8, 64));
    cr_assert_eq(misuse_calls, 3);
    /* An interior pointer of a live block is foreign too. */
    alloc_free(a, (char *)mine + 8, 24, 8);
    cr_assert_eq(misuse_calls, 4);
    check();
    cr_assert(alloc_debug_find(&dbg, mine, NULL));
    alloc_free(a, mine, 32, 8);
    cr_assert_eq(misuse_calls, 4);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

Test(debug, wrong_len_and_align_are_rejected, .fini = stop_observing)
{
    allocator a = open_debug(alloc_c_allocator());
    void *p = alloc_bytes(a, 48, 16);
    observe_misuse();
    alloc_free(a, p, 47, 16);
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "len 47") && strstr(last_misuse, "len 48"), "got: %s", last_misuse);
    alloc_free(a, p, 48, 8);
    cr_assert_eq(misuse_calls, 2);
    cr_assert(strstr(last_misuse, "align 8") && strstr(last_misuse, "align 16"), "got: %s", last_misuse);
    cr_assert(!alloc_resize(a, p, 40, 16, 64));
    cr_assert_eq(misuse_calls, 3);
    cr_assert_null(alloc_remap(a, p, 48, 32, 64));
    cr_assert_eq(misuse_calls, 4);
    check();
    /* After a resize the live length is the new one. */
    stop_observing();
    if (alloc_resize(a, p, 48, 16, 20)) {
        observe_misuse();
        alloc_free(a, p, 48, 16);
        cr_assert_eq(misuse_calls, 1, "the old length was accepted after a resize");
        stop_observing();
        alloc_free(a, p, 20, 16);
    } else {
        alloc_free(a, p, 48, 16);
    }
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

Test(debug, canary_overrun_is_reported_at_free_and_check, .fini = stop_observing)
{
    allocator a = open_debug(alloc_c_allocator());
    unsigned char *p = debug_test_leaky_function(a); /* 40 bytes */
    poke(p + 40, 0); /* one byte past the end */
    observe_misuse();
    cr_assert(!alloc_debug_check(&dbg), "check missed a damaged canary");
    cr_assert_eq(misuse_calls, 1);
    alloc_free(a, p, 40, 8);
    cr_assert_eq(misuse_calls, 2);
    cr_assert(strstr(last_misuse, "overrun") != NULL, "got: %s", last_misuse);
    cr_assert(strstr(last_misuse, "debug_test_leaky_function") != NULL, "site missing: %s", last_misuse);
    cr_assert(alloc_debug_find(&dbg, p, NULL), "a rejected free released the block");
    stop_observing();
    alloc_debug_deinit(&dbg); /* gives the block back */
}

Test(debug, canary_can_be_disabled)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.canary_len = 0;
    o.fill = false;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), 0);
    allocator a = alloc_debug_allocator(&dbg);
    void *p = alloc_bytes(a, 10, 1);
    check();
    alloc_free(a, p, 10, 1);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

Test(debug, history_zero_reports_double_free_as_foreign, .fini = stop_observing)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.freed_history = 0;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), 0);
    allocator a = alloc_debug_allocator(&dbg);
    void *p = alloc_bytes(a, 10, 1);
    alloc_free(a, p, 10, 1);
    observe_misuse();
    alloc_free(a, p, 10, 1);
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "foreign pointer") != NULL, "got: %s", last_misuse);
    check();
    alloc_debug_deinit(&dbg);
}

/* An inner allocator with one 64-byte block: every alloc hands out the same
 * address while it is free, so tests can recycle one address at will. */
static _Alignas(64) unsigned char one_block[64];
static bool one_block_taken;

static void *one_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)ret_addr;
    if (one_block_taken || len > sizeof one_block || align > 64) return NULL;
    one_block_taken = true;
    return one_block;
}

static void one_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)len, (void)align, (void)ret_addr;
    cr_assert_eq(mem, (void *)one_block, "the wrapper passed on a pointer it should have stopped");
    one_block_taken = false;
}

static const alloc_vtable one_block_vtable = {one_alloc, alloc_no_resize, alloc_no_remap, one_free};

/* A debug wrapper over the one-block allocator with a freed history of 8. */
static allocator open_recycling_debug(void)
{
    one_block_taken = false;
    alloc_debug_options o = alloc_debug_default_options();
    o.freed_history = 8;
    o.sink = collect_line;
    cr_assert_eq(alloc_debug_init(&dbg, (allocator){NULL, &one_block_vtable}, &o), 0);
    return alloc_debug_allocator(&dbg);
}

Test(debug, double_free_of_a_recycled_address_outlives_the_history, .fini = stop_observing)
{
    /* free p; then p is handed out and freed again more times than the
     * history holds; then p is freed once more: a double free, not foreign. */
    allocator a = open_recycling_debug();
    void *p = alloc_bytes(a, 40, 8);
    cr_assert_eq(p, (void *)one_block);
    alloc_free(a, p, 40, 8);
    for (int i = 0; i < 3 * 8 + 1; i++) {
        void *q = alloc_bytes(a, 40, 8);
        cr_assert_eq(q, p, "the inner allocator did not recycle the address");
        alloc_free(a, q, 40, 8);
        check();
    }
    observe_misuse();
    alloc_free(a, p, 40, 8);
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "free of") && strstr(last_misuse, "double free"), "got: %s", last_misuse);
    cr_assert(strstr(last_misuse, "foreign") == NULL, "got: %s", last_misuse);
    check();
    stop_observing();
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

Test(debug, freed_address_is_forgotten_after_history_more_frees, .fini = stop_observing)
{
    /* The bound still holds: once 8 other frees followed p's latest free,
     * p is no longer remembered and its free reads as a foreign pointer. */
    alloc_debug_options o = alloc_debug_default_options();
    o.freed_history = 8;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), 0);
    allocator a = alloc_debug_allocator(&dbg);
    void *p = alloc_bytes(a, 24, 8);
    void *others[8];
    for (int i = 0; i < 8; i++) others[i] = alloc_bytes(a, 24, 8); /* all live: distinct from p */
    alloc_free(a, p, 24, 8);
    for (int i = 0; i < 7; i++) alloc_free(a, others[i], 24, 8);
    observe_misuse();
    alloc_free(a, p, 24, 8); /* 7 frees later: still remembered */
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "double free"), "got: %s", last_misuse);
    alloc_free(a, others[7], 24, 8); /* the 8th: p's entry leaves the ring */
    cr_assert_eq(misuse_calls, 1);
    check();
    alloc_free(a, p, 24, 8);
    cr_assert_eq(misuse_calls, 2);
    cr_assert(strstr(last_misuse, "free of") && strstr(last_misuse, "foreign pointer"), "got: %s", last_misuse);
    check();
    stop_observing();
    alloc_debug_deinit(&dbg);
}

Test(debug, resize_and_remap_of_a_freed_block_say_use_after_free, .fini = stop_observing)
{
    allocator a = open_debug(alloc_c_allocator());
    void *p = debug_test_leaky_function(a);
    alloc_free(a, p, 40, 8);
    observe_misuse();
    cr_assert(!alloc_resize(a, p, 40, 8, 20));
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "resize of") && strstr(last_misuse, "use after free"), "got: %s", last_misuse);
    cr_assert(strstr(last_misuse, "debug_test_leaky_function") != NULL, "allocation site missing: %s",
              last_misuse);
    cr_assert_null(alloc_remap(a, p, 40, 8, 80));
    cr_assert_eq(misuse_calls, 2);
    cr_assert(strstr(last_misuse, "remap of") && strstr(last_misuse, "use after free"), "got: %s", last_misuse);
    alloc_free(a, p, 40, 8);
    cr_assert_eq(misuse_calls, 3);
    cr_assert(strstr(last_misuse, "free of") && strstr(last_misuse, "double free"), "got: %s", last_misuse);
    alloc_stats s;
    alloc_debug_stats(&dbg, &s);
    cr_assert_eq(s.misuse_count, 3);
    check();
    stop_observing();
    alloc_debug_deinit(&dbg);
}

/* --- leaks --------------------------------------------------------------------- */

Test(debug, leak_report_names_the_allocating_function)
{
    allocator a = open_debug(alloc_c_allocator());
    debug_test_leaky_function(a);
    debug_test_leaky_function(a);
    debug_test_other_leaker(a);
    void *freed = alloc_bytes(a, 100, 8);
    alloc_free(a, freed, 100, 8);
    size_t bytes = 0;
    cr_assert_eq(alloc_debug_live_blocks(&dbg, &bytes), 3);
    cr_assert_eq(bytes, 88);
    cr_assert_eq(alloc_debug_report_leaks(&dbg), 3);
    cr_assert(strstr(report, "3 blocks, 88 bytes") != NULL, "summary missing: %s", report);
    cr_assert(strstr(report, "2 blocks, 80 bytes, allocated at debug_test_leaky_function") != NULL,
              "site line missing: %s", report);
    cr_assert(strstr(report, "1 blocks, 8 bytes, allocated at debug_test_other_leaker") != NULL,
              "site line missing: %s", report);
    /* Largest first. */
    cr_assert(strstr(report, "debug_test_leaky_function") < strstr(report, "debug_test_other_leaker"));
    report[0] = '\0';
    cr_assert_eq(alloc_debug_deinit(&dbg), 3, "deinit must return the number of leaked blocks");
    cr_assert(strstr(report, "debug_test_leaky_function") != NULL, "deinit printed no report: %s", report);
}

Test(debug, leaked_blocks_go_back_to_the_inner_allocator)
{
    alloc_stats before, after;
    alloc_page_stats(&before);
    allocator a = open_debug(alloc_page_allocator());
    debug_test_leaky_function(a);
    alloc_debug_deinit(&dbg);
    alloc_page_stats(&after);
    cr_assert_eq(after.free_count - before.free_count, after.alloc_count - before.alloc_count,
                 "deinit did not give every block (and its table) back");
}

Test(debug, leak_is_misuse_when_asked, .fini = stop_observing)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.leaks_are_misuse = true;
    o.sink = collect_line;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), 0);
    debug_test_leaky_function(alloc_debug_allocator(&dbg));
    observe_misuse();
    cr_assert_eq(alloc_debug_deinit(&dbg), 1);
    cr_assert_eq(misuse_calls, 1);
    cr_assert(strstr(last_misuse, "leaked") && strstr(last_misuse, "debug_test_leaky_function"), "got: %s",
              last_misuse);
}

/* --- death tests: the default handler aborts ------------------------------------------- */

Test(debug_death, wrong_len_aborts, .signal = SIGABRT)
{
    allocator a = open_debug(alloc_c_allocator());
    void *p = alloc_bytes(a, 16, 8);
    alloc_free(a, p, 17, 8);
}

Test(debug_death, wrong_align_aborts, .signal = SIGABRT)
{
    allocator a = open_debug(alloc_c_allocator());
    void *p = alloc_bytes(a, 16, 8);
    alloc_free(a, p, 16, 16);
}

Test(debug_death, canary_overrun_aborts, .signal = SIGABRT)
{
    allocator a = open_debug(alloc_c_allocator());
    unsigned char *p = alloc_bytes(a, 16, 8);
    poke(p + 16 + 3, 0x5A);
    alloc_free(a, p, 16, 8);
}

Test(debug_death, leak_at_deinit_aborts, .signal = SIGABRT)
{
    alloc_debug_options o = alloc_debug_default_options();
    o.leaks_are_misuse = true;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), 0);
    debug_test_leaky_function(alloc_debug_allocator(&dbg));
    alloc_debug_deinit(&dbg);
}

Test(debug_death, use_after_deinit_aborts, .signal = SIGABRT)
{
    allocator a = open_debug(alloc_c_allocator());
    alloc_debug_deinit(&dbg);
    void *p = alloc_bytes(a, 16, 8);
    (void)p;
}

/* --- failure paths --------------------------------------------------------------------- */

Test(debug, init_fails_cleanly_without_metadata_memory)
{
    alloc_failing f;
    alloc_failing_options fo = alloc_failing_default_options();
    fo.fail_at = 0;
    alloc_failing_init(&f, alloc_page_allocator(), &fo);
    alloc_debug_options o = alloc_debug_default_options();
    o.meta = alloc_failing_allocator(&f);
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), -ENOMEM);
    cr_assert_eq(alloc_failing_deinit(&f), 0, "a failed init kept memory");
    /* The second metadata allocation (history ring) failing must free the first. */
    fo.fail_at = 1;
    alloc_failing_init(&f, alloc_page_allocator(), &fo);
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), -ENOMEM);
    cr_assert_eq(alloc_failing_deinit(&f), 0, "a failed init kept memory");
}

Test(debug, table_growth_failure_fails_the_alloc_cleanly)
{
    alloc_failing f;
    alloc_failing_options fo = alloc_failing_default_options();
    fo.fail_at = 2; /* the table and its first growth succeed, the second fails */
    alloc_failing_init(&f, alloc_page_allocator(), &fo);
    alloc_debug_options o = alloc_debug_default_options();
    o.meta = alloc_failing_allocator(&f);
    o.freed_history = 0;
    cr_assert_eq(alloc_debug_init(&dbg, alloc_c_allocator(), &o), 0);
    allocator a = alloc_debug_allocator(&dbg);
    static void *blocks[1024];
    size_t n = 0;
    while (n < 1024 && (blocks[n] = alloc_bytes(a, 8, 8)) != NULL) n++;
    cr_assert(n > 0 && n < 1024, "growth failure never surfaced (%zu blocks)", n);
    check();
    alloc_stats s;
    alloc_debug_stats(&dbg, &s);
    cr_assert_eq(s.failed_count, 1);
    cr_assert_eq(s.alloc_count, n);
    while (n) {
        n--;
        alloc_free(a, blocks[n], 8, 8);
    }
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
}

Test(debug, inner_failure_and_impossible_sizes_change_nothing)
{
    alloc_failing f;
    alloc_failing_options fo = alloc_failing_default_options();
    fo.max_live_bytes = 256;
    alloc_failing_init(&f, alloc_c_allocator(), &fo);
    allocator a = open_debug(alloc_failing_allocator(&f));
    void *p = alloc_bytes(a, 100, 8);
    cr_assert_not_null(p);
    cr_assert_null(alloc_bytes(a, 200, 8));
    cr_assert_null(alloc_bytes(a, ALLOC_MAX_LEN, 8), "len + canary overflow not caught");
    cr_assert(!alloc_resize(a, p, 100, 8, 300));
    cr_assert_null(alloc_remap(a, p, 100, 8, 300));
    check();
    size_t bytes;
    cr_assert_eq(alloc_debug_live_blocks(&dbg, &bytes), 1);
    cr_assert_eq(bytes, 100);
    alloc_free(a, p, 100, 8);
    cr_assert_eq(alloc_debug_deinit(&dbg), 0);
    cr_assert_eq(alloc_failing_deinit(&f), 0);
}
