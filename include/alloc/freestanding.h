/*
 * freestanding.h: what the freestanding core needs from its environment.
 *
 * The CMake option ALLOC_FREESTANDING builds the core alone (the interface,
 * the shared stubs, diagnostics and the strategies that work over a caller's
 * buffer) with -ffreestanding, for targets without a C library: bare-metal
 * Cortex-M or RISC-V firmware, kernels, boot loaders. Its sources and users
 * are compiled with the C macro ALLOC_FREESTANDING=1. It uses no malloc, no
 * stdio, no errno and no system call; there is no page provider, page
 * allocator or C allocator in it, so every strategy gets its memory from a
 * buffer the caller hands over (or from another handle).
 *
 * Required from the program (the C standard says a freestanding compiler may
 * still emit calls to these, and the helpers in alloc.h call them):
 *     void  *memcpy(void *dst, const void *src, size_t n);
 *     void  *memmove(void *dst, const void *src, size_t n);
 *     void  *memset(void *dst, int c, size_t n);
 *     int    memcmp(const void *a, const void *b, size_t n);
 *     size_t strlen(const char *s);
 * with their standard meaning; any libc-less implementation will do
 * (picolibc's, newlib's, the compiler runtime's, or five loops).
 *
 * Optional hooks, weak in the library, so a program overrides them simply by
 * defining a function with the same name:
 *     alloc_freestanding_write  where diagnostics and the default trace sink
 *                               go (a UART, a ring buffer); default: dropped.
 *     alloc_freestanding_abort  what a fatal report (corruption, and misuse
 *                               with no handler installed) ends in; default:
 *                               __builtin_trap(). Must not return.
 * Hosted builds do not have these: there diagnostics go to standard error and
 * fatal reports end in SIGABRT.
 */
#ifndef ALLOC_FREESTANDING_H
#define ALLOC_FREESTANDING_H

#include <stddef.h>

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives len bytes of diagnostic text (whole lines, ending in '\n'). May be
 * called from any context that reports; must not allocate through alloc. */
ALLOC_API void alloc_freestanding_write(const char *text, size_t len);

/* Ends the program after a fatal report. Must not return. */
ALLOC_API ALLOC_NORETURN void alloc_freestanding_abort(void);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_FREESTANDING_H */
