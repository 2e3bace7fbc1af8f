/*
 * test_failing.c: the fault-injecting wrapper's rules, and the every-failure
 * driver catching leaks, swallowed failures, nondeterminism and test errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "alloc/c_allocator.h"
#include "alloc/debug.h"
#include "alloc/failing.h"
#include "alloc/page.h"

static alloc_failing fw;

static allocator open_failing(const alloc_failing_options *o)
{
    alloc_failing_init(&fw, alloc_c_allocator(), o);
    return alloc_failing_allocator(&fw);
}

static void check(void) { cr_assert(alloc_failing_check(&fw), "failing wrapper check failed"); }

Test(failing, defaults_pass_everything_through)
{
    allocator a = open_failing(NULL);
    void *p[100];
    for (int i = 0; i < 100; i++) cr_assert_not_null(p[i] = alloc_bytes(a, 64, 8));
    for (int i = 0; i < 100; i++) alloc_free(a, p[i], 64, 8);
    check();
    cr_assert_eq(alloc_failing_allocations(&fw), 100);
    cr_assert_eq(alloc_failing_induced(&fw), 0);
    cr_assert_eq(alloc_failing_deinit(&fw), 0);
}

Test(failing, fails_exactly_the_nth_allocation)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.fail_at = 3;
    allocator a = open_failing(&o);
    void *p[6];
    for (int i = 0; i < 6; i++) {
        p[i] = alloc_bytes(a, 16, 8);
        if (i == 3)
            cr_assert_null(p[i], "allocation 3 should fail");
        else
            cr_assert_not_null(p[i], "allocation %d should succeed", i);
        check();
    }
    cr_assert_eq(alloc_failing_induced(&fw), 1);
    for (int i = 0; i < 6; i++)
        if (p[i]) alloc_free(a, p[i], 16, 8);
    alloc_stats s;
    alloc_failing_stats(&fw, &s);
    cr_assert_eq(s.failed_count, 1);
    cr_assert_eq(s.alloc_count, 5);
    cr_assert_eq(alloc_failing_deinit(&fw), 0);
}

Test(failing, sticky_fails_everything_after)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.fail_at = 2;
    o.sticky = true;
    allocator a = open_failing(&o);
    void *p0 = alloc_bytes(a, 8, 8), *p1 = alloc_bytes(a, 8, 8);
    cr_assert(p0 && p1);
    for (int i = 0; i < 10; i++) cr_assert_null(alloc_bytes(a, 8, 8));
    cr_assert_eq(alloc_failing_induced(&fw), 10);
    alloc_free(a, p0, 8, 8);
    alloc_free(a, p1, 8, 8);
    check();
}

Test(failing, total_byte_budget)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.max_total_bytes = 100;
    allocator a = open_failing(&o);
    void *p = alloc_bytes(a, 60, 1);
    cr_assert_not_null(p);
    alloc_free(a, p, 60, 1);
    /* Freeing gives no budget back: 60 + 41 > 100. */
    cr_assert_null(alloc_bytes(a, 41, 1));
    p = alloc_bytes(a, 40, 1);
    cr_assert_not_null(p, "exactly the budget must pass");
    cr_assert_null(alloc_bytes(a, 1, 1));
    cr_assert_null(alloc_bytes(a, SIZE_MAX / 2, 1), "budget arithmetic overflowed");
    alloc_free(a, p, 40, 1);
    check();
}

Test(failing, live_byte_limit_applies_to_growth)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.max_live_bytes = 1000;
    allocator a = open_failing(&o);
    char *p = alloc_bytes(a, 600, 8);
    cr_assert_not_null(p);
    cr_assert_null(alloc_bytes(a, 401, 8));
    void *q = alloc_bytes(a, 400, 8);
    cr_assert_not_null(q);
    alloc_free(a, q, 400, 8);
    cr_assert_null(alloc_remap(a, p, 600, 8, 1001));
    cr_assert(!alloc_resize(a, p, 600, 8, 1001));
    memset(p, 3, 600);
    /* A remap counts only its growth against the limit: 600 -> 1000 fits. */
    char *r = alloc_realloc(a, p, 600, 8, 1000);
    cr_assert_not_null(r);
    for (int i = 0; i < 600; i++) cr_assert_eq(r[i], 3);
    r = alloc_realloc(a, r, 1000, 8, 300);
    cr_assert_not_null(r, "shrinking is always allowed");
    for (int i = 0; i < 300; i++) cr_assert_eq(r[i], 3);
    alloc_free(a, r, 300, 8);
    check();
    cr_assert_eq(alloc_failing_deinit(&fw), 0);
}

static uint64_t failures_with_seed(uint64_t seed, int n, bool *pattern)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.fail_per_million = 250000;
    o.seed = seed;
    allocator a = open_failing(&o);
    uint64_t failed = 0;
    for (int i = 0; i < n; i++) {
        void *p = alloc_bytes(a, 8, 8);
        pattern[i] = p == NULL;
        if (p)
            alloc_free(a, p, 8, 8);
        else
            failed++;
    }
    return failed;
}

Test(failing, seeded_probability_is_reproducible)
{
    enum { N = 4000 };
    static bool a[N], b[N], c[N];
    uint64_t fa = failures_with_seed(7, N, a), fb = failures_with_seed(7, N, b);
    uint64_t fc = failures_with_seed(8, N, c);
    cr_assert_eq(fa, fb);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "same seed, different failures");
    cr_assert_neq(memcmp(a, c, sizeof a), 0, "different seeds, same failures");
    /* 25 % of 4000 = 1000; the binomial standard deviation is about 27. */
    cr_assert(fa > 850 && fa < 1150, "failure rate off: %llu of %d", (unsigned long long)fa, N);
    cr_assert(fc > 850 && fc < 1150);
}

Test(failing, resize_and_remap_can_be_failed)
{
    alloc_failing_options o = alloc_failing_default_options();
    o.fail_resize = true;
    o.fail_remap = true;
    alloc_failing_init(&fw, alloc_page_allocator(), &o);
    allocator a = alloc_failing_allocator(&fw);
    char *p = alloc_bytes(a, 100, 8);
    cr_assert(!alloc_resize(a, p, 100, 8, 50), "resize passed although failing");
    cr_assert_null(alloc_remap(a, p, 100, 8, 50));
    memset(p, 9, 100);
    char *q = alloc_realloc(a, p, 100, 8, 10000); /* falls back to alloc + copy + free */
    cr_assert_not_null(q);
    for (int i = 0; i < 100; i++) cr_assert_eq(q[i], 9);
    alloc_free(a, q, 10000, 8);
    check();
    cr_assert_eq(alloc_failing_deinit(&fw), 0);
}

/* --- the driver --------------------------------------------------------------- */

typedef struct node {
    struct node *next;
    char *name;
} node;

/* Builds a list of n named nodes and tears it down. correct: cleans up on
 * every error path. Returns ALLOC_TEST_OUT_OF_MEMORY when an allocation fails. */
typedef struct list_test {
    int n;
    bool leak_on_error;    /* forgets the list built so far when an allocation fails */
    bool swallow;          /* returns OK although an allocation failed */
    bool fewer_each_time;  /* allocation count changes between runs */
    int runs;
} list_test;

static void free_list(allocator a, node *head)
{
    while (head) {
        node *next = head->next;
        alloc_free_str(a, head->name);
        alloc_destroy(a, node, head);
        head = next;
    }
}

static int build_list(allocator a, void *user)
{
    list_test *t = user;
    int n = t->fewer_each_time ? t->n - t->runs : t->n;
    t->runs++;
    node *head = NULL;
    for (int i = 0; i < n; i++) {
        node *nd = alloc_create(a, node);
        if (!nd) goto oom;
        char name[16];
        snprintf(name, sizeof name, "node%d", i);
        nd->name = alloc_strdup(a, name);
        if (!nd->name) {
            alloc_destroy(a, node, nd);
            goto oom;
        }
        nd->next = head;
        head = nd;
    }
    for (node *p = head; p; p = p->next)
        if (strncmp(p->name, "node", 4) != 0) return 99;
    free_list(a, head);
    return ALLOC_TEST_OK;
oom:
    if (!t->leak_on_error) free_list(a, head);
    return t->swallow ? ALLOC_TEST_OK : ALLOC_TEST_OUT_OF_MEMORY;
}

static alloc_failure_options quiet = {false, false};

Test(failing_driver, correct_code_passes_every_failure)
{
    list_test t = {.n = 5};
    alloc_failure_report r;
    alloc_failure_status st = alloc_check_all_failures(alloc_c_allocator(), build_list, &t, &quiet, &r);
    cr_assert_eq(st, ALLOC_FAILURES_PASSED, "status %s", alloc_failure_status_name(st));
    cr_assert_eq(r.allocations, 10, "5 nodes + 5 names");
    cr_assert_eq(r.runs, 11);
    cr_assert_eq(t.runs, 11);
}

Test(failing_driver, leak_on_an_error_path_is_found)
{
    list_test t = {.n = 4, .leak_on_error = true};
    alloc_failure_report r;
    alloc_failure_status st = alloc_check_all_failures(alloc_c_allocator(), build_list, &t, &quiet, &r);
    cr_assert_eq(st, ALLOC_FAILURES_LEAKED, "status %s", alloc_failure_status_name(st));
    /* Failing allocation 0 leaks nothing; failing 1 (first name) leaks nothing
     * either (the node is destroyed); failing 2 leaks node 0 and its name. */
    cr_assert_eq(r.failing_index, 2);
    cr_assert_eq(r.leaked_blocks, 2);
    cr_assert_eq(r.leaked_bytes, sizeof(node) + strlen("node0") + 1);
}

Test(failing_driver, swallowed_failure_is_reported_unless_allowed)
{
    list_test t = {.n = 3, .swallow = true};
    alloc_failure_report r;
    cr_assert_eq(alloc_check_all_failures(alloc_c_allocator(), build_list, &t, &quiet, &r), ALLOC_FAILURES_SWALLOWED);
    cr_assert_eq(r.failing_index, 0);
    alloc_failure_options allow = {true, false};
    t.runs = 0;
    cr_assert_eq(alloc_check_all_failures(alloc_c_allocator(), build_list, &t, &allow, &r), ALLOC_FAILURES_PASSED);
}

Test(failing_driver, nondeterministic_allocation_is_reported)
{
    list_test t = {.n = 6, .fewer_each_time = true};
    alloc_failure_report r;
    alloc_failure_status st = alloc_check_all_failures(alloc_c_allocator(), build_list, &t, &quiet, &r);
    cr_assert_eq(st, ALLOC_FAILURES_NONDETERMINISTIC, "status %s", alloc_failure_status_name(st));
}

static int failing_assertion(allocator a, void *user)
{
    (void)user;
    void *p = alloc_bytes(a, 8, 8);
    if (!p) return ALLOC_TEST_OUT_OF_MEMORY;
    alloc_free(a, p, 8, 8);
    return 42;
}

static int oom_without_reason(allocator a, void *user)
{
    (void)a, (void)user;
    return ALLOC_TEST_OUT_OF_MEMORY;
}

Test(failing_driver, test_errors_are_reported)
{
    alloc_failure_report r;
    cr_assert_eq(alloc_check_all_failures(alloc_c_allocator(), failing_assertion, NULL, &quiet, &r),
                 ALLOC_FAILURES_TEST_FAILED);
    cr_assert_eq(r.test_result, 42);
    cr_assert_eq(r.runs, 1);
    cr_assert_eq(alloc_check_all_failures(alloc_c_allocator(), oom_without_reason, NULL, &quiet, &r),
                 ALLOC_FAILURES_NO_OOM_IN_CLEAN);
    cr_assert_str_eq(alloc_failure_status_name(ALLOC_FAILURES_LEAKED), "leaked");
}

/* The composition paths of the wrappers themselves: a debug wrapper set up
 * inside the test, whose metadata comes from the allocator under test. */
static int debug_over_test_allocator(allocator a, void *user)
{
    (void)user;
    alloc_debug d;
    alloc_debug_options o = alloc_debug_default_options();
    o.meta = a;
    o.freed_history = 4;
    if (alloc_debug_init(&d, a, &o) != 0) return ALLOC_TEST_OUT_OF_MEMORY;
    allocator inner = alloc_debug_allocator(&d);
    void *blocks[80];
    int n = 0, result = ALLOC_TEST_OK;
    for (; n < 80; n++) { /* enough to grow the table twice */
        blocks[n] = alloc_bytes(inner, 24, 8);
        if (!blocks[n]) {
            result = ALLOC_TEST_OUT_OF_MEMORY;
            break;
        }
    }
    while (n) {
        n--;
        alloc_free(inner, blocks[n], 24, 8);
    }
    if (!alloc_debug_check(&d)) result = 7;
    if (alloc_debug_deinit(&d) != 0) result = 8;
    return result;
}

Test(failing_driver, debug_wrapper_survives_every_failure)
{
    alloc_failure_report r;
    alloc_failure_status st = alloc_check_all_failures(alloc_page_allocator(), debug_over_test_allocator, NULL,
                                                       &quiet, &r);
    cr_assert_eq(st, ALLOC_FAILURES_PASSED, "status %s at index %llu (result %d)", alloc_failure_status_name(st),
                 (unsigned long long)r.failing_index, r.test_result);
    cr_assert_geq(r.allocations, 80 + 2);
}
