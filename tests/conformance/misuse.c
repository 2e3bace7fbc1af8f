/*
 * misuse.c: the misuse cases of the conformance suite (Criterion runner
 * only: each ends its process with SIGABRT). A row takes part in a case when
 * its descriptor claims the capability, so every allocator that claims to
 * detect a misuse is held to it:
 *   DESC_DETECTS_DOUBLE_FREE   freeing the newest block twice aborts;
 *   DESC_DETECTS_FOREIGN_FREE  freeing an address it never handed out aborts;
 *   DESC_POISONS_FREED         (AddressSanitizer builds) a write to a freed
 *                              block is reported.
 * The blocks are small and 8- or 16-aligned, so that every row can serve them.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>

#include "suite.h"

#define MAX_ROWS 128

/* The indices (into the sorted table) of the rows claiming cap, in out. */
static struct criterion_test_params rows_with(unsigned cap, int *out)
{
    size_t n = 0;
    for (size_t i = 0; i < conformance_row_count(); i++)
        if ((conformance_row_at(i)->caps & cap) && n < MAX_ROWS) out[n++] = (int)i;
    return cr_make_param_array(int, out, n);
}

static allocator open_row(int index, desc_instance *inst)
{
    const conformance_row *row = conformance_row_at((size_t)index);
    cr_assert_not_null(row, "row index %d out of range", index);
    cr_log_info("row %s", row->name);
    cr_assert(desc_make(row, inst, NULL), "%s: make failed", row->name);
    return inst->a;
}

static size_t small_len(int index)
{
    size_t max = conformance_row_at((size_t)index)->max_len;
    return max < 32 ? max : 32;
}

static int double_free_rows[MAX_ROWS];
ParameterizedTestParameters(conformance_misuse, double_free_aborts)
{
    return rows_with(DESC_DETECTS_DOUBLE_FREE, double_free_rows);
}

ParameterizedTest(int *index, conformance_misuse, double_free_aborts, .signal = SIGABRT)
{
    desc_instance inst;
    allocator a = open_row(*index, &inst);
    size_t len = small_len(*index);
    cr_assert_not_null(alloc_bytes(a, len, 8));
    void *p = alloc_bytes(a, len, 8);
    cr_assert_not_null(p);
    alloc_free(a, p, len, 8);
    alloc_free(a, p, len, 8);
}

static int foreign_free_rows[MAX_ROWS];
ParameterizedTestParameters(conformance_misuse, foreign_free_aborts)
{
    return rows_with(DESC_DETECTS_FOREIGN_FREE, foreign_free_rows);
}

ParameterizedTest(int *index, conformance_misuse, foreign_free_aborts, .signal = SIGABRT)
{
    /* 16 bytes into a static object, so a header read before the address
     * stays inside it. */
    static _Alignas(64) unsigned char elsewhere[128];
    desc_instance inst;
    allocator a = open_row(*index, &inst);
    size_t len = small_len(*index);
    cr_assert_not_null(alloc_bytes(a, len, 8));
    alloc_free(a, elsewhere + 16, len, 8);
}

#if DESC_IN_ASAN(1)
static int poison_rows[MAX_ROWS];
ParameterizedTestParameters(conformance_misuse, write_after_free_is_reported)
{
    return rows_with(DESC_POISONS_FREED, poison_rows);
}

ParameterizedTest(int *index, conformance_misuse, write_after_free_is_reported, .signal = SIGABRT)
{
    desc_instance inst;
    allocator a = open_row(*index, &inst);
    volatile char *p = alloc_bytes(a, 64, 16);
    cr_assert_not_null((void *)p);
    cr_assert_not_null(alloc_bytes(a, 64, 16)); /* a live neighbour */
    p[0] = 1;
    alloc_free(a, (void *)p, 64, 16);
    p[0] = 2;
}
#endif
