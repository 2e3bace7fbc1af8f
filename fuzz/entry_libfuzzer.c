/*
 * entry_libfuzzer.c: libFuzzer's entry points around the shared driver.
 * At exit the process prints how many operations it ran, which is how runs
 * are reported ("N operations in M inputs").
 */
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void report(void)
{
    fprintf(stderr, "fuzz %s: %llu operations in %llu inputs\n", fuzz_this_target.name,
            (unsigned long long)fuzz_total_ops(), (unsigned long long)fuzz_total_inputs());
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    atexit(report);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_run(&fuzz_this_target, data, size);
    return 0;
}
