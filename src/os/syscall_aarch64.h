/*
 * syscall_aarch64.h (internal): raw Linux system calls on aarch64.
 *
 * The kernel takes the call number in x8 and arguments in x0..x5; `svc #0`
 * returns the result in x0 (-4095..-1 is -errno) and preserves everything else.
 * aarch64 uses the generic system call table (no open, only openat).
 */
#ifndef ALLOC_OS_SYSCALL_AARCH64_H
#define ALLOC_OS_SYSCALL_AARCH64_H

#define ALLOC_NR_openat 56
#define ALLOC_NR_close 57
#define ALLOC_NR_read 63
#define ALLOC_NR_write 64
#define ALLOC_NR_exit_group 94
#define ALLOC_NR_clock_gettime 113
#define ALLOC_NR_tgkill 131
#define ALLOC_NR_rt_sigaction 134
#define ALLOC_NR_rt_sigprocmask 135
#define ALLOC_NR_getpid 172
#define ALLOC_NR_gettid 178
#define ALLOC_NR_munmap 215
#define ALLOC_NR_mremap 216
#define ALLOC_NR_mmap 222
#define ALLOC_NR_mprotect 226
#define ALLOC_NR_madvise 233

static inline long alloc_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
}

/* Unused trailing arguments are passed as 0; the kernel ignores them. */
static inline long alloc_syscall1(long n, long a1) { return alloc_syscall6(n, a1, 0, 0, 0, 0, 0); }
static inline long alloc_syscall2(long n, long a1, long a2) { return alloc_syscall6(n, a1, a2, 0, 0, 0, 0); }
static inline long alloc_syscall3(long n, long a1, long a2, long a3)
{
    return alloc_syscall6(n, a1, a2, a3, 0, 0, 0);
}
static inline long alloc_syscall4(long n, long a1, long a2, long a3, long a4)
{
    return alloc_syscall6(n, a1, a2, a3, a4, 0, 0);
}
static inline long alloc_syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
    return alloc_syscall6(n, a1, a2, a3, a4, a5, 0);
}

#define ALLOC_SYSCALL_ARCH_NAME "asm-aarch64"

#endif /* ALLOC_OS_SYSCALL_AARCH64_H */
