/*
 * conformance.h: the shared conformance suite's rows are the descriptors
 * (tests/descriptors/descriptor.h): every configuration described there is a
 * row, and every case of suite.c runs against it through its `allocator`
 * handle only, with the descriptor's invariant checker after every step.
 *
 * The capabilities the suite reads: DESC_LIFO_ONLY (the any-order random
 * workload is skipped, the LIFO one runs), DESC_FIXED_CAPACITY (the
 * exhaustion case runs, and workloads accept NULL once max_live is
 * approached), DESC_NO_REUSE (loops that allocate and free forever are
 * bounded by max_live). The Criterion runner also holds every row to the
 * misuse capabilities it claims (misuse.c).
 */
#ifndef ALLOC_TESTS_CONFORMANCE_H
#define ALLOC_TESTS_CONFORMANCE_H

#include "descriptor.h"

typedef descriptor conformance_row;
typedef desc_instance conformance_instance;

#endif /* ALLOC_TESTS_CONFORMANCE_H */
