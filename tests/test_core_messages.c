/*
 * test_core_messages.c: diagnostics say what was wrong and what was expected.
 *
 * A misuse report once read "arena: resize of 0x... (len 21) at prog+0x58a1":
 * neither what was wrong with the call nor what the arena expected. And an
 * arena over a 16 KiB pool returned NULL for a 20,000-byte request without a
 * word, even in a debug build, although the pool can never serve the chunk
 * that request needs. These tests hold the wording: the misuse reports are
 * captured through a returning misuse handler, the note (which is not misuse:
 * it does not go to the handler and does not abort) by reading standard
 * error through a pipe.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/diag.h"
#ifdef ALLOC_TEST_HAVE_ARENA
#include "alloc/arena.h"
#endif
#ifdef ALLOC_TEST_HAVE_BUMP
#include "alloc/bump.h"
#endif
#ifdef ALLOC_TEST_HAVE_POOL
#include "alloc/pool.h"
#endif

static unsigned reports;
static char report_text[1024];

static void record(const char *message, void *user)
{
    (void)user;
    reports++;
    strncpy(report_text, message, sizeof report_text - 1);
}

static void observe(void)
{
    reports = 0;
    report_text[0] = '\0';
    alloc_set_misuse_handler(record, NULL);
}

static void stop(void) { alloc_set_misuse_handler(NULL, NULL); }

TestSuite(messages, .init = observe, .fini = stop);

/* Standard error captured into a pipe between begin and end. */
static int saved_stderr = -1, pipe_fds[2];

static void capture_begin(void)
{
    cr_assert_eq(pipe(pipe_fds), 0);
    saved_stderr = dup(2);
    cr_assert_geq(saved_stderr, 0);
    cr_assert_eq(dup2(pipe_fds[1], 2), 2);
}

static void capture_end(char *out, size_t cap)
{
    dup2(saved_stderr, 2);
    close(saved_stderr);
    close(pipe_fds[1]);
    ssize_t n = read(pipe_fds[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(pipe_fds[0]);
}

#if ALLOC_DEBUG && defined(ALLOC_TEST_HAVE_ARENA)
Test(messages, arena_foreign_resize_says_what_it_expected)
{
    alloc_arena a;
    cr_assert_eq(alloc_arena_init(&a, NULL), 0);
    allocator h = alloc_arena_allocator(&a);
    char *p = alloc_bytes(h, 21, 1);
    cr_assert_not_null(p);
    static char elsewhere[64];
    cr_assert_not(alloc_resize(h, elsewhere, 21, 1, 40), "a foreign block does not resize");
    cr_assert_eq(reports, 1);
    cr_assert(strstr(report_text, "arena: resize of") != NULL, "got: %s", report_text);
    cr_assert(strstr(report_text, "not a live block of this arena") != NULL, "what was wrong: %s", report_text);
    cr_assert(strstr(report_text, "expected a pointer this arena handed out") != NULL, "what was expected: %s",
              report_text);
    cr_assert(strstr(report_text, "messages_arena_foreign_resize") != NULL, "the call site: %s", report_text);
    alloc_arena_deinit(&a);
}
#endif

#if ALLOC_DEBUG && defined(ALLOC_TEST_HAVE_BUMP)
Test(messages, bump_foreign_free_names_the_buffer)
{
    static char buf[256], elsewhere[16];
    alloc_bump b;
    cr_assert_eq(alloc_bump_init(&b, buf, sizeof buf), 0);
    alloc_free(alloc_bump_allocator(&b), elsewhere, 16, 1);
    cr_assert_eq(reports, 1);
    cr_assert(strstr(report_text, "not inside the handed-out part of the buffer") != NULL, "got: %s", report_text);
    cr_assert(strstr(report_text, "expected a pointer this allocator handed out") != NULL, "got: %s", report_text);
}
#endif

#if defined(ALLOC_TEST_HAVE_ARENA) && defined(ALLOC_TEST_HAVE_POOL)
Test(messages, arena_over_a_small_pool_explains_the_null)
{
    alloc_pool pool;
    alloc_pool_config pc = {.obj_size = 16384};
    cr_assert_eq(alloc_pool_init(&pool, &pc), 0);
    alloc_arena a;
    alloc_arena_options ao = {.backing = alloc_pool_allocator(&pool)};
    cr_assert_eq(alloc_arena_init(&a, &ao), 0);
    allocator h = alloc_arena_allocator(&a);

    char err[2048];
    capture_begin();
    void *small = alloc_bytes(h, 100, 8);
    void *big = alloc_bytes(h, 20000, 8);
    capture_end(err, sizeof err);

    cr_assert_not_null(small, "a chunk of the pool's size serves small requests");
    cr_assert_null(big, "no chunk of the pool can hold 20,000 bytes");
    cr_assert_eq(reports, 0, "a request that cannot be served is not misuse");
#if ALLOC_DEBUG
    cr_assert(strstr(err, "alloc: note: pool") != NULL, "debug builds explain the NULL; stderr: %s", err);
    cr_assert(strstr(err, "can never be served: its objects are 16384 bytes") != NULL, "stderr: %s", err);
    cr_assert(strstr(err, "messages_arena_over_a_small_pool") != NULL, "names the request's site: %s", err);
#else
    cr_assert_str_empty(err, "release builds stay quiet: %s", err);
#endif
    alloc_arena_deinit(&a);
    alloc_pool_deinit(&pool);
}
#endif
