/*
 * suite.h: the shared conformance suite (suite.c) as its runners see it.
 */
#ifndef ALLOC_TESTS_CONFORMANCE_SUITE_H
#define ALLOC_TESTS_CONFORMANCE_SUITE_H

#include <stddef.h>

#include "conformance.h"

/* The registered rows, sorted by name; NULL past the end. */
size_t conformance_row_count(void);
const conformance_row *conformance_row_at(size_t i);

/* 0, or a cap on the lengths the cases ask for (live bytes at 64 times it), so
 * that emulated targets run the same checks over less memory. */
extern size_t conformance_len_cap;

/* Provided by the runner: reports a failed check and ends the running case. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void conformance_fail(const char *file, int line, const char *cond, const char *message);

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
void conformance_check_failed(const char *file, int line, const char *cond, const char *fmt, ...);

/* CONF_CHECK(cond, fmt, ...): ends the case with the message unless cond holds. */
#define CONF_CHECK(cond, ...)                                                             \
    do {                                                                                  \
        if (!(cond)) conformance_check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__);    \
    } while (0)

/* The cases; each runs one row from make to destroy. X-macro so that runners
 * list them without repeating the names. */
#define CONFORMANCE_CASES(X)                \
    X(alignment)                            \
    X(no_overlap)                           \
    X(resize_keeps_contents)                \
    X(remap_keeps_contents)                 \
    X(realloc_keeps_contents)               \
    X(resize_never_moves)                   \
    X(zero_length_and_overflow)             \
    X(impossible_request_fails_cleanly)     \
    X(random_workload)                      \
    X(lifo_workload)                        \
    X(exhaustion)                           \
    X(stats_add_up)

#define CONFORMANCE_DECLARE_CASE(name) void conformance_case_##name(const conformance_row *row);
CONFORMANCE_CASES(CONFORMANCE_DECLARE_CASE)
#undef CONFORMANCE_DECLARE_CASE

#endif /* ALLOC_TESTS_CONFORMANCE_SUITE_H */
