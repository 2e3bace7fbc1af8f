/*
 * diag.h: what happens when alloc detects a contract violation.
 *
 * Debug builds of every strategy, and the debug wrapper in every build, check
 * the contract of alloc.h (double free, foreign free, wrong len/align,
 * out-of-order LIFO free, leaks). On a violation they format one line naming
 * the problem and the call sites, then call the misuse handler.
 *
 * The default handler writes the line to standard error and aborts. A handler
 * installed with alloc_set_misuse_handler may instead record it and return;
 * the operation that detected the violation then returns without changing the
 * allocator's state (free does nothing, resize returns false, alloc and remap
 * return NULL). Corruption of an allocator's own metadata (a broken free list,
 * a boundary tag that disagrees) is not misuse but a fatal error: it is
 * reported the same way and always aborts, whatever the handler does.
 */
#ifndef ALLOC_DIAG_H
#define ALLOC_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives one NUL-terminated line (no trailing newline) and the user pointer. */
typedef void (*alloc_misuse_handler)(const char *message, void *user);

/*
 * Installs handler (NULL restores the default: print and abort). Process-wide;
 * not synchronised with concurrent reports, so install it before threads start.
 */
ALLOC_API void alloc_set_misuse_handler(alloc_misuse_handler handler, void *user);

/*
 * Reports a contract violation: formats the message (see alloc_format) and
 * passes it to the handler. Returns only if the handler returns.
 */
ALLOC_API void alloc_report_misuse(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Reports corrupted metadata and aborts, whatever the handler does. */
ALLOC_API ALLOC_NORETURN void alloc_report_corruption(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/*
 * A small formatter that needs no libc (it is used inside allocators, where
 * calling printf could recurse into malloc). Understands %s, %c, %d, %i, %u,
 * %x, %p and %%, with the length modifiers z, l, ll, and a field width for
 * numbers (right-aligned with spaces, as "%10zu"); no flags or precision.
 * Always NUL-terminates when cap > 0; returns the length it would have written.
 */
ALLOC_API size_t alloc_format(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * Writes a readable name for a code address into buf:
 *   "function+0xoff (file.c:line, object+0xoff)"
 * The function comes from the dynamic symbol table (dladdr) or, for static
 * functions and unexported ones, from the object's .symtab; file and line
 * from its DWARF line table when it has debug information (uncompressed);
 * the object offset is what addr2line takes for a position-independent
 * object. Parts that cannot be found are left out ("object+0xoff" alone for
 * a stripped binary); an address in no loaded object gives "0x...", 0 gives
 * "?". Returns buf. Never allocates (the object file is mapped read-only
 * and unmapped again); its cost grows with the size of the object's symbol
 * and line tables, so it is meant for reports, not hot paths.
 */
ALLOC_API const char *alloc_describe_addr(uintptr_t addr, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_DIAG_H */
