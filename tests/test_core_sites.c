/*
 * test_core_sites.c: diagnostics name the call site itself.
 *
 * The front-door macros (alloc_bytes, alloc_free, alloc_create, ...) record
 * ALLOC_CALL_SITE(), an address inside the function that uses them; the
 * debug wrapper keeps that raw address (alloc_debug_block.alloc_site) and
 * reports print it through alloc_describe_addr as "function+0xoff
 * (object+0xoff)". Before, the macros passed the return address of that
 * function, so a leak in main read "libc.so.6+0x2724a" for every site.
 *
 * With debug information (ALLOC_TEST_DEBUG_INFO: Debug and RelWithDebInfo
 * builds) the file and line of the call come from the line table too:
 * "static_allocating_site+0x1c (test_core_sites.c:25, test_core_sites+0x...)".
 *
 * The functions below are static on purpose: they are not in the dynamic
 * symbol table (the tests link with ENABLE_EXPORTS, which exports only
 * external functions), so naming them proves the lookup in the object's full
 * symbol table. ALLOC_NOINLINE keeps each a function of its own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/c_allocator.h"
#include "alloc/diag.h"
#ifdef ALLOC_TEST_HAVE_DEBUG
#include "alloc/debug.h"
#endif
#ifdef ALLOC_TEST_HAVE_POOL
#include "alloc/pool.h"
#endif

static ALLOC_NOINLINE void *static_allocating_site(allocator a) { return alloc_bytes(a, 24, 8); }
enum { allocating_line = __LINE__ - 1 }; /* the line of the alloc_bytes call above */

static ALLOC_NOINLINE void *static_creating_site(allocator a) { return alloc_create(a, double); }

static ALLOC_NOINLINE void static_marker(void) { __asm__ volatile(""); }

#ifdef ALLOC_TEST_HAVE_DEBUG
/* The site the debug wrapper recorded for mem. */
static uintptr_t site_of(alloc_debug *d, void *mem)
{
    alloc_debug_block b;
    cr_assert(alloc_debug_find(d, mem, &b), "the wrapper knows the block");
    return b.alloc_site;
}

/* true iff site lies within [fn, fn + 4096): inside that function's code. */
static bool inside(uintptr_t site, void (*fn)(void))
{
    uintptr_t start = (uintptr_t)fn;
    return site > start && site - start < 4096;
}

Test(sites, the_recorded_site_lies_in_the_calling_function)
{
    alloc_debug d;
    cr_assert_eq(alloc_debug_init(&d, alloc_c_allocator(), NULL), 0);
    allocator a = alloc_debug_allocator(&d);
    void *p = static_allocating_site(a);
    double *q = static_creating_site(a);
    cr_assert(inside(site_of(&d, p), (void (*)(void))static_allocating_site),
              "site %#lx is not in static_allocating_site %p", (unsigned long)site_of(&d, p),
              (void *)static_allocating_site);
    cr_assert(inside(site_of(&d, q), (void (*)(void))static_creating_site));
    alloc_free(a, p, 24, 8);
    alloc_destroy(a, double, q);
    cr_assert_eq(alloc_debug_deinit(&d), 0);
}

#endif

Test(sites, a_static_function_is_named_with_offset_and_object)
{
    char buf[256];
    alloc_describe_addr((uintptr_t)static_marker + 1, buf, sizeof buf);
    cr_assert(strncmp(buf, "static_marker+0x1 (", 19) == 0, "got %s", buf);
    cr_assert(strstr(buf, "test_core_sites+0x") != NULL || strstr(buf, "boxfort") != NULL,
              "the object and its offset follow: %s", buf);
}

#ifdef ALLOC_TEST_HAVE_DEBUG
static char leak_report[4096];

static void collect(const char *line, void *user)
{
    (void)user;
    size_t used = strlen(leak_report);
    if (used + strlen(line) + 2 < sizeof leak_report) {
        strcat(leak_report, line);
        strcat(leak_report, "\n");
    }
}

Test(sites, a_leak_report_names_the_static_function)
{
    alloc_debug_options opt = alloc_debug_default_options();
    opt.sink = collect;
    leak_report[0] = '\0';
    alloc_debug d;
    cr_assert_eq(alloc_debug_init(&d, alloc_c_allocator(), &opt), 0);
    (void)static_allocating_site(alloc_debug_allocator(&d));
    cr_assert_eq(alloc_debug_deinit(&d), 1, "one block leaked");
    cr_assert(strstr(leak_report, "allocated at static_allocating_site+0x") != NULL, "got: %s", leak_report);
    cr_assert(strstr(leak_report, "libc") == NULL, "the C library is nobody's call site: %s", leak_report);
#if ALLOC_TEST_DEBUG_INFO
    char where[64];
    snprintf(where, sizeof where, "(test_core_sites.c:%d, ", (int)allocating_line);
    cr_assert(strstr(leak_report, where) != NULL, "file and line of the call (%s) in: %s", where, leak_report);
#endif
}

#endif

#if ALLOC_DEBUG && defined(ALLOC_TEST_HAVE_POOL)
static unsigned misuse_seen;
static char misuse_text[1024];

static void record(const char *message, void *user)
{
    (void)user;
    misuse_seen++;
    strncpy(misuse_text, message, sizeof misuse_text - 1);
}

static ALLOC_NOINLINE void static_double_put(alloc_pool *pool)
{
    void *o = alloc_pool_get(pool);
    alloc_pool_put(pool, o);
    alloc_pool_put(pool, o);
}

Test(sites, a_pool_misuse_names_the_function_that_made_it)
{
    alloc_pool pool;
    alloc_pool_config cfg = {.obj_size = 32};
    cr_assert_eq(alloc_pool_init(&pool, &cfg), 0);
    alloc_set_misuse_handler(record, NULL);
    static_double_put(&pool);
    alloc_set_misuse_handler(NULL, NULL);
    cr_assert_eq(misuse_seen, 1);
    cr_assert(strstr(misuse_text, "static_double_put+0x") != NULL, "got: %s", misuse_text);
    alloc_pool_deinit(&pool);
}
#endif
