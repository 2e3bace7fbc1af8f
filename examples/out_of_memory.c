/*
 * out_of_memory: proving that code survives every allocation failure.
 *
 * build_index() is ordinary library code over the containers: it may run out
 * of memory at any of its allocations and must then return an error, leak
 * nothing and leave nothing half-built. alloc_check_all_failures runs it once
 * to count its allocations, then once more per allocation with exactly that
 * one failing (a failing wrapper over a debug wrapper), and reports the first
 * run that leaks, crashes or swallows the failure.
 *
 * A second part shows the failing wrapper by hand: a memory budget
 * (max_live_bytes) under which a vector grows until it gets -ENOMEM, keeping
 * every element it had.
 */
#include <alloc/alloc.h>
#include <alloc/containers.h>
#include <alloc/failing.h>
#include <alloc/page.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

ALLOC_VEC_DEFINE(size_vec, size_t)

/* Maps each word of a sentence to the list of its positions, and renders it. */
static int build_index(allocator a, void *user)
{
    const char *words[] = {"to", "be", "or", "not", "to", "be", "that", "is", "the", "question"};
    (void)user;
    alloc_map first_pos;
    alloc_map_init(&first_pos, a);
    size_vec order;
    size_vec_init(&order, a);
    alloc_str out;
    alloc_str_init(&out, a);
    int rc = ALLOC_TEST_OUT_OF_MEMORY;
    for (size_t i = 0; i < 10; i++) {
        bool inserted;
        uint64_t *pos = alloc_map_upsert(&first_pos, words[i], strlen(words[i]), &inserted, NULL);
        if (!pos) goto out;
        if (inserted) {
            *pos = i;
            if (size_vec_push(&order, i) != 0) goto out;
        }
    }
    for (size_t k = 0; k < order.len; k++)
        if (alloc_str_appendf(&out, "%s%s", k ? " " : "", words[order.items[k]]) != 0) goto out;
    rc = strcmp(alloc_str_cstr(&out), "to be or not that is the question") == 0 ? ALLOC_TEST_OK : 99;
out:
    alloc_str_deinit(&out);
    size_vec_deinit(&order);
    alloc_map_deinit(&first_pos);
    return rc;
}

int main(void)
{
    /* A container that cannot get its geometric growth step retries with the
     * exact size it needs, so a single failed allocation can be absorbed:
     * recovering is allowed, leaking or crashing is not. */
    alloc_failure_options fopt = {.allow_swallowed = true, .report_leaks = true};
    alloc_failure_report report;
    alloc_failure_status st = alloc_check_all_failures(alloc_page_allocator(), build_index, NULL, &fopt, &report);
    printf("build_index: %llu allocations; %llu runs, each failing one of them: %s\n",
           (unsigned long long)report.allocations, (unsigned long long)report.runs, alloc_failure_status_name(st));
    if (st != ALLOC_FAILURES_PASSED) return 1;

    alloc_failing fail;
    alloc_failing_options opt = alloc_failing_default_options();
    opt.max_live_bytes = 4096; /* a 4 KiB heap */
    alloc_failing_init(&fail, alloc_page_allocator(), &opt);
    size_vec v;
    size_vec_init(&v, alloc_failing_allocator(&fail));
    int err = 0;
    while ((err = size_vec_push(&v, v.len)) == 0) {
    }
    int ok = err == -ENOMEM && v.len > 0 && v.items[v.len - 1] == v.len - 1;
    printf("under a 4 KiB budget the vector holds %zu elements (%zu bytes), then push returns -ENOMEM: %s\n", v.len,
           v.cap * sizeof(size_t), ok ? "ok" : "WRONG");
    size_vec_deinit(&v);
    ok = ok && alloc_failing_check(&fail) && alloc_failing_deinit(&fail) == 0;
    return ok ? 0 : 1;
}
