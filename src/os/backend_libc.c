/*
 * backend_libc.c: the libc back end. The same primitives through the C
 * library's mmap family, for any POSIX system (and for Linux builds that
 * prefer libc). errno is turned into -errno here and nowhere else, and
 * restored, so that an allocator built on this never disturbs the caller's
 * errno.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* mremap, MADV_FREE */
#endif
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "backend.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

static int host_prot(int prot)
{
    return (prot & ALLOC_SYS_PROT_READ ? PROT_READ : 0) | (prot & ALLOC_SYS_PROT_WRITE ? PROT_WRITE : 0);
}

/* -errno if the call failed, else value; errno restored to saved_errno either way. */
static intptr_t finish(int failed, intptr_t value, int saved_errno)
{
    intptr_t r = failed ? -(intptr_t)(errno ? errno : ENOMEM) : value;
    errno = saved_errno;
    return r;
}

intptr_t alloc_sys_map(size_t len, int prot)
{
    int saved_errno = errno;
    void *p = mmap(NULL, len, host_prot(prot), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return finish(p == MAP_FAILED, (intptr_t)p, saved_errno);
}

int alloc_sys_unmap(void *addr, size_t len)
{
    int saved_errno = errno;
    return (int)finish(munmap(addr, len) != 0, 0, saved_errno);
}

intptr_t alloc_sys_remap(void *addr, size_t old_len, size_t new_len, int may_move)
{
#if defined(__linux__)
    int saved_errno = errno;
    void *p = mremap(addr, old_len, new_len, may_move ? MREMAP_MAYMOVE : 0);
    return finish(p == MAP_FAILED, (intptr_t)p, saved_errno);
#else
    (void)addr, (void)old_len, (void)new_len, (void)may_move;
    return -ENOSYS;
#endif
}

int alloc_sys_advise(void *addr, size_t len, int advice)
{
    int host_advice = MADV_DONTNEED;
#if defined(MADV_FREE)
    if (advice == ALLOC_SYS_ADVISE_FREE) host_advice = MADV_FREE;
#endif
    if (advice == ALLOC_SYS_ADVISE_HUGEPAGE) {
#if defined(MADV_HUGEPAGE)
        host_advice = MADV_HUGEPAGE;
#else
        return -EINVAL;
#endif
    }
    int saved_errno = errno;
    return (int)finish(madvise(addr, len, host_advice) != 0, 0, saved_errno);
}

int alloc_sys_protect(void *addr, size_t len, int prot)
{
    int saved_errno = errno;
    return (int)finish(mprotect(addr, len, host_prot(prot)) != 0, 0, saved_errno);
}

intptr_t alloc_sys_write_stderr(const char *buf, size_t len)
{
    int saved_errno = errno;
    ssize_t n = write(2, buf, len);
    return finish(n < 0, (intptr_t)n, saved_errno);
}

_Noreturn void alloc_sys_abort(void) { abort(); }

size_t alloc_sys_page_size(void)
{
    long n = sysconf(_SC_PAGESIZE);
    return n > 0 ? (size_t)n : 0;
}

const char *alloc_sys_backend_name(void) { return "libc"; }

long alloc_sys_thread_id(void)
{
#if defined(__linux__) && defined(SYS_gettid)
    return (long)syscall(SYS_gettid); /* cannot fail */
#else
    return -ENOSYS;
#endif
}

int alloc_sys_thread_probe(long tid)
{
#if defined(__linux__) && defined(SYS_tgkill)
    int saved_errno = errno;
    return (int)finish(syscall(SYS_tgkill, (long)getpid(), tid, 0) != 0, 0, saved_errno);
#else
    (void)tid;
    return -ENOSYS;
#endif
}

int64_t alloc_sys_monotonic_ns(void)
{
    struct timespec ts;
    int saved_errno = errno;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return finish(1, 0, saved_errno);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
