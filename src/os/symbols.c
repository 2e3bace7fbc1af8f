/*
 * symbols.c: names for code addresses in diagnostics (alloc_describe_addr).
 *
 * A report must say where the offending call is, and it is written from
 * inside an allocator (perhaps the process's malloc), so nothing here may
 * allocate. Two sources, cheapest first:
 *
 *   1. dladdr, which reads the dynamic symbol table of the loaded object. It
 *      knows exported functions only: a static function, or anything in an
 *      executable not linked with -rdynamic, comes back without a name.
 *   2. The object's full symbol table (.symtab), read from its file on disk:
 *      the file is mapped read-only with mmap (no heap), the section headers
 *      lead to SHT_SYMTAB and its string table, and the function symbol whose
 *      [value, value + size) holds the address names it. Stripped binaries
 *      have no .symtab; they keep the object+offset form.
 *
 * The result reads "function+0xoff (object+0xoff)": the function and the
 * offset into it for a person, the object and the offset into it for tools
 * (addr2line -e object 0xoff gives file and line from the debug information,
 * which this code does not parse: DWARF line programs are too large a piece of
 * machinery to run inside a failing allocator). ELF64 and ELF32 both: the
 * -m32 build reads its own class. Builds without a dynamic loader (the
 * freestanding core) give the bare address.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include "../core/internal.h"

#if defined(ALLOC_HAVE_DLADDR) && ALLOC_HAVE_DLADDR
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Shdr shdr_t;
typedef Elf64_Sym sym_t;
#define ELF_CLASS ELFCLASS64
#define SYM_TYPE(info) ELF64_ST_TYPE(info)
#else
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Shdr shdr_t;
typedef Elf32_Sym sym_t;
#define ELF_CLASS ELFCLASS32
#define SYM_TYPE(info) ELF32_ST_TYPE(info)
#endif

/* dl_iterate_phdr lists the main program first. */
static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(const void **)data = info->dlpi_phdr;
    return 1;
}

/* Opens the file of the object loaded at base. For the main program dladdr
 * reports argv[0] as typed, which may be relative to a directory the program
 * has since left, or not a path at all: the kernel's /proc/self/exe is the
 * file that was executed. Shared objects are reported by their full path. */
static int open_object(const char *path, uintptr_t base)
{
    const void *main_phdr = NULL;
    Dl_info main_info;
    dl_iterate_phdr(first_object, &main_phdr);
    if (main_phdr && dladdr(main_phdr, &main_info) && (uintptr_t)main_info.dli_fbase == base)
        return open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (path && path[0] == '/') return open(path, O_RDONLY | O_CLOEXEC);
    return -1;
}

/* Looks addr up in the .symtab of the object loaded at base. On success
 * stores the symbol's name (pointing into buf) and start address. */
static bool symtab_lookup(const char *path, uintptr_t base, uintptr_t addr, char *name, size_t cap,
                          uintptr_t *start)
{
    int fd = open_object(path, base);
    if (fd < 0) return false;
    struct stat st;
    bool found = false;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(ehdr_t)) {
        close(fd);
        return false;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED) return false;

    const ehdr_t *eh = (const ehdr_t *)(const void *)file;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELF_CLASS ||
        eh->e_shentsize != sizeof(shdr_t) || eh->e_shoff == 0 ||
        eh->e_shoff > size || (size - eh->e_shoff) / sizeof(shdr_t) < eh->e_shnum)
        goto out;
    /* Executables (ET_EXEC) hold absolute addresses; PIE and shared objects
     * (ET_DYN) hold offsets from the load base. */
    uintptr_t key = eh->e_type == ET_DYN ? addr - base : addr;
    const shdr_t *sh = (const shdr_t *)(const void *)(file + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
        const shdr_t *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset) continue;
        if (strs->sh_offset > size || strs->sh_size > size - strs->sh_offset) continue;
        const sym_t *syms = (const sym_t *)(const void *)(file + sh[i].sh_offset);
        size_t n = (size_t)(sh[i].sh_size / sizeof(sym_t));
        const char *names = (const char *)file + strs->sh_offset;
        for (size_t k = 0; k < n; k++) {
            const sym_t *s = &syms[k];
            if (SYM_TYPE(s->st_info) != STT_FUNC || s->st_value == 0) continue;
            if (key < s->st_value || key - s->st_value >= (s->st_size ? s->st_size : 1)) continue;
            if (s->st_name >= strs->sh_size) continue;
            const char *nm = names + s->st_name;
            size_t len = 0;
            while (s->st_name + len < strs->sh_size && nm[len]) len++;
            if (len == 0 || len + 1 > cap) continue;
            memcpy(name, nm, len);
            name[len] = '\0';
            *start = eh->e_type == ET_DYN ? base + (uintptr_t)s->st_value : (uintptr_t)s->st_value;
            found = true;
            break;
        }
    }
out:
    munmap((void *)(uintptr_t)file, size);
    return found;
}
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
    /* A return address, and the site ALLOC_CALL_SITE records, point just
     * after an instruction of the function: step back into it so the symbol
     * is that function even when the instruction is its last. */
    uintptr_t at = addr - 1;
    if (dladdr((void *)at, &info) != 0) {
        const char *object = info.dli_fname && info.dli_fname[0] ? info.dli_fname : "?";
        const char *slash = object;
        for (const char *c = object; *c; c++)
            if (*c == '/') slash = c + 1;
        uintptr_t base = (uintptr_t)info.dli_fbase;
        char name[128];
        uintptr_t start = 0;
        const char *fn = NULL;
        if (info.dli_sname && info.dli_saddr) {
            fn = info.dli_sname;
            start = (uintptr_t)info.dli_saddr;
        } else if (symtab_lookup(info.dli_fname, base, at, name, sizeof name, &start)) {
            fn = name;
        }
        if (fn)
            alloc_format(buf, cap, "%s+0x%zx (%s+0x%zx)", fn, (size_t)(addr - start), slash, (size_t)(addr - base));
        else
            alloc_format(buf, cap, "%s+0x%zx", slash, (size_t)(addr - base));
        return buf;
    }
#endif
    alloc_format(buf, cap, "%p", (void *)addr);
    return buf;
}
