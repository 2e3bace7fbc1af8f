/*
 * backend_syscall.c: the asm back end. Linux system calls issued directly with
 * inline assembly (one header per architecture), so the path from an
 * allocator to the kernel never passes through libc: no errno, no symbol
 * interposition, usable before libc is initialised and inside a malloc
 * replacement. Constants are the kernel's (identical on x86_64 and aarch64).
 */
#include "backend.h"

#if defined(__x86_64__)
#include "syscall_x86_64.h"
#elif defined(__aarch64__)
#include "syscall_aarch64.h"
#else
#error "the asm back end supports x86_64 and aarch64 Linux; configure with ALLOC_OS_BACKEND=libc"
#endif

#define LINUX_MAP_PRIVATE 0x02
#define LINUX_MAP_ANONYMOUS 0x20
#define LINUX_MREMAP_MAYMOVE 1
#define LINUX_MADV_DONTNEED 4
#define LINUX_MADV_FREE 8
#define LINUX_MADV_HUGEPAGE 14
#define LINUX_AT_FDCWD (-100)
#define LINUX_O_RDONLY 0
#define LINUX_O_CLOEXEC 02000000
#define LINUX_SIGABRT 6
#define LINUX_SIG_UNBLOCK 1
#define LINUX_AT_PAGESZ 6
#define LINUX_EINTR 4

intptr_t alloc_sys_map(size_t len, int prot)
{
    return (intptr_t)alloc_syscall6(ALLOC_NR_mmap, 0, (long)len, prot,
                                    LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS, -1, 0);
}

int alloc_sys_unmap(void *addr, size_t len)
{
    return (int)alloc_syscall2(ALLOC_NR_munmap, (long)addr, (long)len);
}

intptr_t alloc_sys_remap(void *addr, size_t old_len, size_t new_len, int may_move)
{
    return (intptr_t)alloc_syscall5(ALLOC_NR_mremap, (long)addr, (long)old_len, (long)new_len,
                                    may_move ? LINUX_MREMAP_MAYMOVE : 0, 0);
}

int alloc_sys_advise(void *addr, size_t len, int advice)
{
    long linux_advice = advice == ALLOC_SYS_ADVISE_FREE       ? LINUX_MADV_FREE
                        : advice == ALLOC_SYS_ADVISE_HUGEPAGE ? LINUX_MADV_HUGEPAGE
                                                              : LINUX_MADV_DONTNEED;
    return (int)alloc_syscall3(ALLOC_NR_madvise, (long)addr, (long)len, linux_advice);
}

int alloc_sys_protect(void *addr, size_t len, int prot)
{
    return (int)alloc_syscall3(ALLOC_NR_mprotect, (long)addr, (long)len, prot);
}

intptr_t alloc_sys_write_stderr(const char *buf, size_t len)
{
    return (intptr_t)alloc_syscall3(ALLOC_NR_write, 2, (long)buf, (long)len);
}

_Noreturn void alloc_sys_abort(void)
{
    /* Raise SIGABRT on this thread with it unblocked; if a handler returns,
     * restore the default action and raise again; exit as a last resort. */
    unsigned long abrt_mask = 1UL << (LINUX_SIGABRT - 1);
    long pid = alloc_syscall1(ALLOC_NR_getpid, 0);
    long tid = alloc_syscall1(ALLOC_NR_gettid, 0);
    alloc_syscall4(ALLOC_NR_rt_sigprocmask, LINUX_SIG_UNBLOCK, (long)&abrt_mask, 0, sizeof abrt_mask);
    alloc_syscall3(ALLOC_NR_tgkill, pid, tid, LINUX_SIGABRT);
    /* A zeroed kernel sigaction is SIG_DFL with no flags and an empty mask,
     * whichever of the two layouts (with or without sa_restorer) the arch uses. */
    unsigned long default_action[4] = {0, 0, 0, 0};
    alloc_syscall4(ALLOC_NR_rt_sigaction, LINUX_SIGABRT, (long)default_action, 0, 8);
    alloc_syscall3(ALLOC_NR_tgkill, pid, tid, LINUX_SIGABRT);
    for (;;) alloc_syscall1(ALLOC_NR_exit_group, 128 + LINUX_SIGABRT);
}

size_t alloc_sys_page_size(void)
{
    /* The kernel passes the page size in the auxiliary vector; read it from
     * /proc/self/auxv as (key, value) pairs of machine words. */
    static const char path[] = "/proc/self/auxv";
    long fd = alloc_syscall4(ALLOC_NR_openat, LINUX_AT_FDCWD, (long)path,
                             LINUX_O_RDONLY | LINUX_O_CLOEXEC, 0);
    if (fd < 0) return 0;
    size_t page = 0;
    unsigned long pair[2];
    for (;;) {
        long n = alloc_syscall3(ALLOC_NR_read, fd, (long)pair, sizeof pair);
        if (n == -LINUX_EINTR) continue;
        if (n != (long)sizeof pair || pair[0] == 0) break;
        if (pair[0] == LINUX_AT_PAGESZ) {
            page = (size_t)pair[1];
            break;
        }
    }
    alloc_syscall1(ALLOC_NR_close, fd);
    return page;
}

const char *alloc_sys_backend_name(void) { return ALLOC_SYSCALL_ARCH_NAME; }

long alloc_sys_thread_id(void) { return alloc_syscall1(ALLOC_NR_gettid, 0); }

int alloc_sys_thread_probe(long tid)
{
    long pid = alloc_syscall1(ALLOC_NR_getpid, 0);
    return (int)alloc_syscall3(ALLOC_NR_tgkill, pid, tid, 0);
}

int64_t alloc_sys_monotonic_ns(void)
{
    struct {
        long sec, nsec;
    } ts;
    long r = alloc_syscall2(ALLOC_NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts);
    if (r < 0) return r;
    return (int64_t)ts.sec * 1000000000 + ts.nsec;
}
