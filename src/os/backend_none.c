/*
 * backend_none.c: the page provider's back end for freestanding builds
 * (ALLOC_FREESTANDING), where there is no operating system to ask for pages.
 *
 * Mapping always fails with -ENOMEM, so the page allocator (and with it every
 * strategy left on its default backing) behaves as an allocator whose memory
 * is exhausted: allocations return NULL, init functions that need pages report
 * their error. Strategies over a caller's buffer or another handle are
 * unaffected. Diagnostics and aborts go to the program's hooks
 * (alloc/freestanding.h). Only the freestanding library compiles this file.
 */
#include <errno.h>

#include "alloc/freestanding.h"
#include "backend.h"

intptr_t alloc_sys_map(size_t len, int prot)
{
    (void)len, (void)prot;
    return -ENOMEM;
}

/* Nothing was ever mapped, so there is nothing valid to unmap or change. */
int alloc_sys_unmap(void *addr, size_t len)
{
    (void)addr, (void)len;
    return -EINVAL;
}

intptr_t alloc_sys_remap(void *addr, size_t old_len, size_t new_len, int may_move)
{
    (void)addr, (void)old_len, (void)new_len, (void)may_move;
    return -ENOSYS;
}

int alloc_sys_advise(void *addr, size_t len, int advice)
{
    (void)addr, (void)len, (void)advice;
    return -EINVAL;
}

int alloc_sys_protect(void *addr, size_t len, int prot)
{
    (void)addr, (void)len, (void)prot;
    return -EINVAL;
}

intptr_t alloc_sys_write_stderr(const char *buf, size_t len)
{
    alloc_freestanding_write(buf, len);
    return (intptr_t)len;
}

_Noreturn void alloc_sys_abort(void) { alloc_freestanding_abort(); }

/* No system to ask: os.c then assumes 4096. */
size_t alloc_sys_page_size(void) { return 0; }

const char *alloc_sys_backend_name(void) { return "none"; }

long alloc_sys_thread_id(void) { return -ENOSYS; }

int alloc_sys_thread_probe(long tid)
{
    (void)tid;
    return -ENOSYS;
}

int64_t alloc_sys_monotonic_ns(void) { return -ENOSYS; }
