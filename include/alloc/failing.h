/*
 * failing.h: fault injection. A wrapper that makes chosen requests fail, and
 * a driver that proves a piece of code survives every single allocation
 * failure without leaking (after Zig's checkAllAllocationFailures).
 *
 * The wrapper passes every call to the inner allocator unless a rule says the
 * call fails; a failed alloc or remap returns NULL and a failed resize returns
 * false without the inner allocator seeing the request, so the failure is
 * clean by construction. Frees always pass. Rules (any that match fail the
 * call):
 *   - fail_at: the allocation with this index (0-based, counted over alloc
 *     calls only) fails, and with sticky every later one too;
 *   - max_total_bytes: an allocation fails once the bytes handed out so far
 *     (a running total, frees do not give budget back) plus its len would
 *     exceed this;
 *   - max_live_bytes: an alloc, or a resize/remap that grows, fails when live
 *     bytes would exceed this (a small heap);
 *   - fail_per_million: each alloc fails with this probability, from a
 *     xorshift generator seeded by seed (runs are reproducible);
 *   - fail_resize / fail_remap: every resize / remap fails (so callers take
 *     their fallback path).
 *
 * Bounds: O(1) added per call; no memory of its own. Thread safety: none
 * (put a locked wrapper around it).
 */
#ifndef ALLOC_FAILING_H
#define ALLOC_FAILING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "alloc/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fail_at value for "no allocation fails by its index". */
#define ALLOC_FAILING_NEVER UINT64_MAX

/* The failure rules (see the list above); a call fails when any rule
 * matches. Start from alloc_failing_default_options and change fields. */
typedef struct alloc_failing_options {
    uint64_t fail_at;          /* index of the first allocation to fail; ALLOC_FAILING_NEVER: none */
    bool sticky;               /* after fail_at, every allocation fails */
    size_t max_total_bytes;    /* SIZE_MAX: no budget */
    size_t max_live_bytes;     /* SIZE_MAX: no limit */
    uint32_t fail_per_million; /* 0: no random failures */
    uint64_t seed;             /* seed of the random failures (same seed, same failures) */
    bool fail_resize;          /* every resize fails */
    bool fail_remap;           /* every remap fails */
} alloc_failing_options;

/* No rule set: everything passes through. */
ALLOC_API alloc_failing_options alloc_failing_default_options(void);

/* State of one failing wrapper; lives in caller memory (visible for sizeof).
 * Read it through the functions below. */
typedef struct alloc_failing {
    allocator inner;       /* the wrapped allocator */
    alloc_failing_options opt; /* the rules in effect */
    uint64_t allocations;  /* alloc calls seen (the index of the next one) */
    uint64_t induced;      /* failures this wrapper caused */
    uint64_t rng;          /* xorshift64 state of the random failures, derived from seed */
    size_t total_bytes;    /* bytes handed out so far (running total) */
    alloc_stats stats;     /* traffic through the wrapper (alloc_failing_stats) */
} alloc_failing;

/* Initialises f in caller memory. opt NULL = defaults. Cannot fail; O(1). */
ALLOC_API void alloc_failing_init(alloc_failing *f, allocator inner, const alloc_failing_options *opt);

/* The handle. */
ALLOC_API allocator alloc_failing_allocator(alloc_failing *f);

/* Nothing to give back (the wrapper owns no memory); returns live bytes, 0 when
 * everything passed through was freed. */
ALLOC_API size_t alloc_failing_deinit(alloc_failing *f);

/* Alloc calls seen so far (successful or not). */
ALLOC_API uint64_t alloc_failing_allocations(const alloc_failing *f);

/* Failures the wrapper induced so far (inner failures not included). */
ALLOC_API uint64_t alloc_failing_induced(const alloc_failing *f);

/* Stats: bytes as requested through this wrapper; failed_count includes induced failures. */
ALLOC_API void alloc_failing_stats(const alloc_failing *f, alloc_stats *out);

/* Consistency of the counters. O(1). */
ALLOC_API bool alloc_failing_check(const alloc_failing *f);

/* ---------------------------------------------------------------------------
 * The every-failure driver.
 * ------------------------------------------------------------------------- */

/* What a test function returns. */
enum {
    ALLOC_TEST_OK = 0,
    ALLOC_TEST_OUT_OF_MEMORY = 1, /* it saw an allocation fail and gave up cleanly */
    /* any other value: the test failed (an assertion inside it) */
};

/* Outcome of alloc_check_all_failures. */
typedef enum alloc_failure_status {
    ALLOC_FAILURES_PASSED = 0,      /* every run behaved */
    ALLOC_FAILURES_TEST_FAILED,     /* the test returned an error (value in test_result) */
    ALLOC_FAILURES_NO_OOM_IN_CLEAN, /* the clean run (nothing failing) returned OUT_OF_MEMORY */
    ALLOC_FAILURES_LEAKED,          /* a run left blocks live (leaked_blocks, leaked_bytes) */
    ALLOC_FAILURES_SWALLOWED,       /* an induced failure, yet the test returned OK */
    ALLOC_FAILURES_NONDETERMINISTIC,/* a run made fewer allocations than the clean run */
    ALLOC_FAILURES_SETUP,           /* the debug wrapper could not be set up (no memory) */
} alloc_failure_status;

/* What alloc_check_all_failures found (stored in *out). */
typedef struct alloc_failure_report {
    alloc_failure_status status; /* the outcome, as returned */
    uint64_t allocations;   /* allocations the clean run made */
    uint64_t runs;          /* runs made, the clean one included */
    uint64_t failing_index; /* the index failed in the run that went wrong */
    int test_result;        /* what the test returned in that run */
    size_t leaked_blocks, leaked_bytes; /* what a run left live (status LEAKED) */
} alloc_failure_report;

/* How alloc_check_all_failures judges the runs. Passing NULL means
 * allow_swallowed false and report_leaks true. */
typedef struct alloc_failure_options {
    /* The test may recover from a failure and still return OK (e.g. it has a
     * fallback path); by default that is reported as SWALLOWED. */
    bool allow_swallowed;
    /* Leak reports of failing runs go to the debug wrapper's sink (stderr). */
    bool report_leaks;
} alloc_failure_options;

/*
 * Runs test(a, user) once with nothing failing to count its allocations N,
 * then N more times, run i making allocation i fail. Every run's handle is a
 * failing wrapper over a debug wrapper over backing, so a leak, double free or
 * wrong len in any run is caught (leaks are given back and reported in *out;
 * other misuse goes to alloc_report_misuse and aborts by default). The test
 * must be deterministic: same allocations in the same order each run.
 * Stops at the first run that goes wrong. opt NULL = defaults. Returns the
 * status (also in out->status when out is not NULL). O(N^2) allocations.
 */
ALLOC_API alloc_failure_status alloc_check_all_failures(allocator backing, int (*test)(allocator a, void *user),
                                                        void *user, const alloc_failure_options *opt,
                                                        alloc_failure_report *out);

/* A short name for a status ("passed", "leaked", ...), for messages. */
ALLOC_API const char *alloc_failure_status_name(alloc_failure_status status);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_FAILING_H */
