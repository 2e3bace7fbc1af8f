/*
 * syscall_x86_64.h (internal): raw Linux system calls on x86_64.
 *
 * The kernel takes the call number in rax and arguments in rdi, rsi, rdx,
 * r10, r8, r9; `syscall` clobbers rcx (return rip) and r11 (rflags). The result
 * comes back in rax: -4095..-1 is -errno, anything else is the value.
 */
#ifndef ALLOC_OS_SYSCALL_X86_64_H
#define ALLOC_OS_SYSCALL_X86_64_H

#define ALLOC_NR_read 0
#define ALLOC_NR_write 1
#define ALLOC_NR_close 3
#define ALLOC_NR_mmap 9
#define ALLOC_NR_mprotect 10
#define ALLOC_NR_munmap 11
#define ALLOC_NR_rt_sigaction 13
#define ALLOC_NR_rt_sigprocmask 14
#define ALLOC_NR_mremap 25
#define ALLOC_NR_clock_gettime 228
#define ALLOC_NR_madvise 28
#define ALLOC_NR_getpid 39
#define ALLOC_NR_gettid 186
#define ALLOC_NR_exit_group 231
#define ALLOC_NR_tgkill 234
#define ALLOC_NR_openat 257

static inline long alloc_syscall1(long n, long a1)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1) : "rcx", "r11", "memory");
    return ret;
}

static inline long alloc_syscall2(long n, long a1, long a2)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2) : "rcx", "r11", "memory");
    return ret;
}

static inline long alloc_syscall3(long n, long a1, long a2, long a3)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long alloc_syscall4(long n, long a1, long a2, long a3, long a4)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long alloc_syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long alloc_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define ALLOC_SYSCALL_ARCH_NAME "asm-x86_64"

#endif /* ALLOC_OS_SYSCALL_X86_64_H */
