/*
 * conformance.c: the Criterion runner of the shared conformance suite
 * (suite.c). Each case is a parameterized test over the rows (the
 * descriptors); the parameter is the row's index in the table sorted by name,
 * so the runner and its worker processes agree on it. The misuse cases are
 * in misuse.c.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>

#include "suite.h"

void conformance_fail(const char *file, int line, const char *cond, const char *message)
{
    cr_assert_fail("%s:%d: %s (%s)", file, line, message, cond);
    abort(); /* not reached: a failed assertion ends the test */
}

static int row_indices[128];

static struct criterion_test_params all_rows(void)
{
    size_t n = conformance_row_count();
    for (size_t i = 0; i < n; i++) row_indices[i] = (int)i;
    return cr_make_param_array(int, row_indices, n);
}

#define CRITERION_CASE(name)                                             \
    ParameterizedTestParameters(conformance, name) { return all_rows(); } \
    ParameterizedTest(int *index, conformance, name)                      \
    {                                                                     \
        const conformance_row *row = conformance_row_at((size_t)*index);  \
        cr_assert_not_null(row, "row index %d out of range", *index);     \
        conformance_case_##name(row);                                     \
    }
CONFORMANCE_CASES(CRITERION_CASE)
