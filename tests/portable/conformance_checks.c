/*
 * conformance_checks.c: the shared conformance suite's checks in plain C, run
 * by the portable harness over the same rows (the descriptors, tests/descriptors) as
 * the Criterion suite, on targets where Criterion is not available: aarch64
 * under qemu-user and -m32 builds.
 *
 * The checks themselves are tests/conformance/suite.c, shared with the
 * Criterion runner; this file only hands its cases and rows to the harness.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "suite.h"

void conformance_fail(const char *file, int line, const char *cond, const char *message)
{
    pt_fail(file, line, cond, "%s", message);
}

size_t pt_row_count(void) { return conformance_row_count(); }
const void *pt_row(size_t i) { return conformance_row_at(i); }
const char *pt_row_name(size_t i) { return conformance_row_at(i)->name; }

#define PORTABLE_CASE(name)                                                     \
    static void portable_##name(const void *row) { conformance_case_##name(row); }
CONFORMANCE_CASES(PORTABLE_CASE)

#define PORTABLE_ENTRY(name) {#name, portable_##name, 0},
const pt_case pt_conformance_cases[] = {CONFORMANCE_CASES(PORTABLE_ENTRY)};
const size_t pt_conformance_case_count = sizeof pt_conformance_cases / sizeof pt_conformance_cases[0];
