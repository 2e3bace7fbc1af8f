/*
 * stubs.c: the shared vtable entries for operations a strategy cannot do
 * (alloc.h). Strategies point their vtables here instead of writing their own.
 */
#include "internal.h"

bool alloc_no_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)mem, (void)len, (void)align, (void)new_len, (void)ret_addr;
    return false;
}

void *alloc_no_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    (void)ctx, (void)mem, (void)len, (void)align, (void)new_len, (void)ret_addr;
    return NULL;
}

void alloc_no_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    (void)ctx, (void)mem, (void)len, (void)align, (void)ret_addr;
}
