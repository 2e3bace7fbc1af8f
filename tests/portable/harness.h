/*
 * harness.h: the plain-C test runner of the portable suite.
 *
 * Why not Criterion: the portable suite runs where Criterion cannot be
 * installed next to the host's copy (cross-compiled aarch64 binaries under
 * qemu-user, -m32 builds on an x86_64 Debian, whose multiarch Criterion
 * packages replace the native ones). It is a separate, small runner with its
 * own vocabulary, not an imitation of Criterion's: every case runs in a forked
 * child (so a crash or an expected signal ends only that case), under an alarm
 * so a hang fails instead of stalling CI, and the run ends with the line
 * "N passed, N failed".
 */
#ifndef ALLOC_TESTS_PORTABLE_HARNESS_H
#define ALLOC_TESTS_PORTABLE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

/* One case. fn receives param (a conformance row, or NULL). expect_signal is
 * 0 for a case that must return normally, else the signal that must end it. */
typedef struct pt_case {
    const char *name;
    void (*fn)(const void *param);
    int expect_signal;
} pt_case;

/* Reports a failed check in the running case and ends it (the child exits 1). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
void pt_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* CHECK(cond, fmt, ...): ends the case with a message unless cond holds. */
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) pt_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);        \
    } while (0)
#define CHECK_EQ_SZ(a, b, what)                                                                 \
    do {                                                                                        \
        size_t pt_a_ = (size_t)(a), pt_b_ = (size_t)(b);                                        \
        if (pt_a_ != pt_b_) pt_fail(__FILE__, __LINE__, #a " == " #b, "%s: %zu != %zu", (what), \
                                    pt_a_, pt_b_);                                              \
    } while (0)

/* The suites, defined in their own files. */
extern const pt_case pt_os_cases[];
extern const size_t pt_os_case_count;
extern const pt_case pt_conformance_cases[];
extern const size_t pt_conformance_case_count;

/* The conformance rows (the descriptors of tests/descriptors), sorted by name. */
size_t pt_row_count(void);
const void *pt_row(size_t i);
const char *pt_row_name(size_t i);

#endif /* ALLOC_TESTS_PORTABLE_HARNESS_H */
