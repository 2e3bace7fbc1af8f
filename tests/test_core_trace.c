/*
 * test_core_trace.c: trace logging (alloc/trace.h).
 *
 * Built in every configuration; the build tells it what to expect
 * (cmake/alloc_trace.cmake): ALLOC_TEST_TRACE_ON (the library was built with
 * ALLOC_TRACE), ALLOC_TEST_HAVE_FREELIST (the free list, whose split and merge
 * events are asserted, is in the library), ALLOC_TEST_LIBRARY and
 * ALLOC_TEST_NM (to inspect the library's object code).
 *
 * Trace build: a free list's splits and merges arrive at the sink, one
 * well-formed line each. Default build: the same operations give the sink
 * nothing, and no object file of the library refers to the emitter.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "alloc/trace.h"

#ifndef ALLOC_TEST_TRACE_ON
#error "configure through CMake (cmake/alloc_trace.cmake defines the expectations)"
#endif

#if ALLOC_TEST_TRACE_ON
#define ALLOC_TRACE_ENABLED 1 /* for the emitter's prototype */
#endif
#include "core/trace.h"

#if ALLOC_TEST_HAVE_FREELIST
#include "alloc/freelist.h"
#endif

/* --- a sink that keeps what it is given -------------------------------------------- */
#if ALLOC_TEST_HAVE_FREELIST || ALLOC_TEST_TRACE_ON

#define MAX_LINES 256
static char lines[MAX_LINES][ALLOC_TRACE_LINE_MAX];
static size_t line_count, bad_lines;

static void capture(const char *line, size_t len, void *user)
{
    cr_assert_eq(user, (void *)lines, "the sink did not get its user pointer back");
    if (len != strlen(line) || len >= ALLOC_TRACE_LINE_MAX || strchr(line, '\n')) bad_lines++;
    if (line_count < MAX_LINES) memcpy(lines[line_count++], line, len + 1);
}

static size_t lines_starting(const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < line_count; i++)
        if (strncmp(lines[i], prefix, strlen(prefix)) == 0) n++;
    return n;
}
#endif

Test(trace, reports_how_the_library_was_built)
{
    cr_assert_eq(alloc_trace_enabled(), (bool)ALLOC_TEST_TRACE_ON);
}

/* --- object code: the emitter is referenced iff tracing is on ------------------------ */

Test(trace, object_code_calls_the_emitter_only_when_enabled)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -A '%s' 2>/dev/null", ALLOC_TEST_NM, ALLOC_TEST_LIBRARY);
    FILE *nm = popen(cmd, "r");
    cr_assert_not_null(nm, "cannot run %s", cmd);
    char row[1024];
    size_t symbols = 0, references = 0, definitions = 0;
    while (fgets(row, sizeof row, nm)) {
        symbols++;
        if (!strstr(row, " alloc_trace_emit\n")) continue;
        if (strstr(row, " U alloc_trace_emit"))
            references++;
        else
            definitions++;
    }
    int status = pclose(nm);
    cr_assert_eq(status, 0, "%s failed", cmd);
    /* An nm that printed nothing would prove nothing. */
    cr_assert_gt(symbols, 50, "nm listed only %zu symbols of %s", symbols, ALLOC_TEST_LIBRARY);
#if ALLOC_TEST_TRACE_ON
    cr_assert_eq(definitions, 1, "the emitter is not defined once in a trace build");
#if ALLOC_TEST_HAVE_FREELIST
    cr_assert_gt(references, 0, "the free list does not call the emitter in a trace build");
#endif
#else
    cr_assert_eq(references, 0, "%zu object files of a build without tracing call alloc_trace_emit", references);
    cr_assert_eq(definitions, 0, "a build without tracing defines alloc_trace_emit");
#endif
}

/* --- the free list's events ----------------------------------------------------------- */

#if ALLOC_TEST_HAVE_FREELIST
static _Alignas(64) unsigned char heap_buffer[64 << 10];

Test(trace, freelist_split_and_merge_reach_the_sink)
{
    line_count = bad_lines = 0;
    alloc_set_trace_sink(capture, lines);
    alloc_freelist heap;
    /* no_cache: a freed small block would wait in the cache instead of merging. */
    alloc_freelist_config config = {
        .buffer = heap_buffer, .buffer_size = sizeof heap_buffer, .no_grow = true, .no_cache = true};
    cr_assert_eq(alloc_freelist_init(&heap, &config), 0);
    allocator a = alloc_freelist_allocator(&heap);
    size_t before_ops = line_count;

    /* Two blocks carved from the one free block: two splits. */
    void *x = alloc_bytes(a, 100, 16);
    void *y = alloc_bytes(a, 200, 16);
    cr_assert(x && y);
    size_t splits = lines_starting("freelist split");
    /* Freeing them gives adjacent free blocks back: they merge. */
    alloc_free(a, x, 100, 16);
    alloc_free(a, y, 200, 16);
    size_t merges = lines_starting("freelist merge");
    cr_assert(alloc_freelist_check(&heap));
    alloc_freelist_deinit(&heap);
    alloc_set_trace_sink(NULL, NULL);

#if ALLOC_TEST_TRACE_ON
    cr_assert_geq(splits, 2, "%zu split events for two allocations from one free block", splits);
    cr_assert_geq(merges, 1, "no merge event when adjacent blocks were freed");
    cr_assert_gt(line_count, before_ops);
    cr_assert_eq(bad_lines, 0, "%zu malformed lines", bad_lines);
    for (size_t i = 0; i < line_count; i++)
        cr_assert(strncmp(lines[i], "freelist ", 9) == 0, "line %zu does not name its strategy: %s", i, lines[i]);
    /* A split names the block and the two sizes: "freelist split 0x... S -> A + B". */
    for (size_t i = 0; i < line_count; i++) {
        if (strncmp(lines[i], "freelist split ", 15) != 0) continue;
        cr_assert(strstr(lines[i], "0x") && strstr(lines[i], " -> ") && strstr(lines[i], " + "),
                  "split line lacks its fields: %s", lines[i]);
    }
#else
    (void)before_ops;
    cr_assert_eq(line_count, 0, "a build without tracing emitted %zu lines (first: %s)", line_count, lines[0]);
    cr_assert_eq(splits + merges, 0);
#endif
}
#endif

/* --- the emitter itself (trace builds) ------------------------------------------------ */

#if ALLOC_TEST_TRACE_ON
Test(trace, long_lines_are_cut_and_terminated)
{
    line_count = bad_lines = 0;
    alloc_set_trace_sink(capture, lines);
    char longer[1000];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    alloc_trace_emit("test long %s", longer);
    alloc_set_trace_sink(NULL, NULL);
    cr_assert_eq(line_count, 1);
    cr_assert_eq(bad_lines, 0);
    cr_assert_eq(strlen(lines[0]), ALLOC_TRACE_LINE_MAX - 1);
    cr_assert(strncmp(lines[0], "test long xxx", 13) == 0);
}

Test(trace, default_sink_writes_prefixed_lines_to_stderr, .init = cr_redirect_stderr)
{
    alloc_set_trace_sink(NULL, NULL);
    alloc_trace_emit("test merge %p %zu", (void *)0x40, (size_t)96);
    fflush(stderr);
    cr_assert_stderr_eq_str("alloc: trace: test merge 0x40 96\n");
}
#endif
