/*
 * symbols.c: names for code addresses in diagnostics (alloc_describe_addr).
 * Uses dladdr, which reads the dynamic symbol table without allocating; a
 * static function or a stripped binary shows as object+offset or a bare
 * address. Builds without a dynamic loader get the bare address.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include "../core/internal.h"

#if defined(ALLOC_HAVE_DLADDR) && ALLOC_HAVE_DLADDR
#include <dlfcn.h>
#endif

const char *alloc_describe_addr(uintptr_t addr, char *buf, size_t cap)
{
    if (cap == 0) return buf;
    if (addr == 0) {
        alloc_format(buf, cap, "?");
        return buf;
    }
#if defined(ALLOC_HAVE_DLADDR) && ALLOC_HAVE_DLADDR
    Dl_info info;
    /* A return address points after the call; step back into it so the
     * symbol is the calling function even when the call is its last instruction. */
    if (dladdr((void *)(addr - 1), &info) != 0) {
        const char *object = info.dli_fname ? info.dli_fname : "?";
        const char *slash = object;
        for (const char *c = object; *c; c++)
            if (*c == '/') slash = c + 1;
        if (info.dli_sname && info.dli_saddr) {
            alloc_format(buf, cap, "%s+0x%zx (%s)", info.dli_sname,
                         (size_t)(addr - (uintptr_t)info.dli_saddr), slash);
        } else {
            alloc_format(buf, cap, "%s+0x%zx", slash, (size_t)(addr - (uintptr_t)info.dli_fbase));
        }
        return buf;
    }
#endif
    alloc_format(buf, cap, "%p", (void *)addr);
    return buf;
}
