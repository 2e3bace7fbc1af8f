/*
 * symbols.c: names for code addresses in diagnostics (alloc_describe_addr).
 *
 * A report must say where the offending call is, and it is written from
 * inside an allocator (perhaps the process's malloc), so nothing here may
 * allocate. Three sources, cheapest first:
 *
 *   1. dladdr, which reads the dynamic symbol table of the loaded object. It
 *      knows exported functions only: a static function, or anything in an
 *      executable not linked with -rdynamic, comes back without a name.
 *   2. The object's full symbol table (.symtab), read from its file on disk:
 *      the file is mapped read-only with mmap (no heap), the section headers
 *      lead to SHT_SYMTAB and its string table, and the function symbol whose
 *      [value, value + size) holds the address names it. Stripped binaries
 *      have no .symtab; they keep the object+offset form.
 *   3. The DWARF line table (.debug_line, versions 2 to 5) of the same file,
 *      for file and line: its line program is run over the mapped bytes with
 *      a handful of locals, no tables built (compressed debug sections are
 *      skipped: decompressing would need memory).
 *
 * The result reads "function+0xoff (file.c:line, object+0xoff)": the
 * function, the offset into it and the source line for a person, the object
 * and the offset into it for tools. ELF64 and ELF32 both: the -m32 build
 * reads its own class. Builds without a dynamic loader (the freestanding
 * core) give the bare address.
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

/* --- the object file, mapped read-only ------------------------------------- */

typedef struct elf_view {
    const unsigned char *file;
    size_t size;
    const ehdr_t *eh;
    const shdr_t *sh; /* section headers, eh->e_shnum of them */
} elf_view;

static bool map_object(const char *path, uintptr_t base, elf_view *v)
{
    int fd = open_object(path, base);
    if (fd < 0) return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(ehdr_t)) {
        close(fd);
        return false;
    }
    v->size = (size_t)st.st_size;
    void *m = mmap(NULL, v->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return false;
    v->file = m;
    v->eh = m;
    if (memcmp(v->eh->e_ident, ELFMAG, SELFMAG) == 0 && v->eh->e_ident[EI_CLASS] == ELF_CLASS &&
        v->eh->e_shentsize == sizeof(shdr_t) && v->eh->e_shoff != 0 && v->eh->e_shoff <= v->size &&
        (v->size - v->eh->e_shoff) / sizeof(shdr_t) >= v->eh->e_shnum) {
        v->sh = (const shdr_t *)(const void *)(v->file + v->eh->e_shoff);
        return true;
    }
    munmap(m, v->size);
    return false;
}

static void unmap_object(elf_view *v) { munmap((void *)(uintptr_t)v->file, v->size); }

/* A section's bytes, or NULL when it lies outside the file or has no bytes
 * in it (SHT_NOBITS). */
static const unsigned char *section_bytes(const elf_view *v, const shdr_t *s, size_t *len)
{
    if (s->sh_type == SHT_NOBITS || s->sh_offset > v->size || s->sh_size > v->size - s->sh_offset) return NULL;
    *len = (size_t)s->sh_size;
    return v->file + s->sh_offset;
}

/* The section called name, uncompressed, or NULL. */
static const unsigned char *named_section(const elf_view *v, const char *name, size_t *len)
{
    if (v->eh->e_shstrndx >= v->eh->e_shnum) return NULL;
    size_t names_len;
    const char *names = (const char *)section_bytes(v, &v->sh[v->eh->e_shstrndx], &names_len);
    if (!names) return NULL;
    size_t want = strlen(name);
    for (unsigned i = 0; i < v->eh->e_shnum; i++) {
        size_t at = v->sh[i].sh_name;
        if (at >= names_len || names_len - at <= want || memcmp(names + at, name, want + 1) != 0) continue;
        if (v->sh[i].sh_flags & SHF_COMPRESSED) return NULL; /* would need a decompressor */
        return section_bytes(v, &v->sh[i], len);
    }
    return NULL;
}

/* Copies the NUL-terminated string at strings[at] (bounded by len) to out. */
static bool copy_string(const char *strings, size_t len, size_t at, char *out, size_t cap)
{
    if (at >= len) return false;
    size_t n = 0;
    while (at + n < len && strings[at + n]) n++;
    if (at + n >= len || n == 0 || n + 1 > cap) return false;
    memcpy(out, strings + at, n);
    out[n] = '\0';
    return true;
}

/* The function symbol of .symtab that holds key (an address in the object's
 * own numbering); its name goes to name, its start (same numbering) to start. */
static bool symtab_lookup(const elf_view *v, uintptr_t key, char *name, size_t cap, uintptr_t *start)
{
    for (unsigned i = 0; i < v->eh->e_shnum; i++) {
        if (v->sh[i].sh_type != SHT_SYMTAB || v->sh[i].sh_link >= v->eh->e_shnum) continue;
        size_t syms_len, strs_len;
        const sym_t *syms = (const sym_t *)(const void *)section_bytes(v, &v->sh[i], &syms_len);
        const char *strs = (const char *)section_bytes(v, &v->sh[v->sh[i].sh_link], &strs_len);
        if (!syms || !strs) continue;
        for (size_t k = 0; k < syms_len / sizeof(sym_t); k++) {
            const sym_t *s = &syms[k];
            if (SYM_TYPE(s->st_info) != STT_FUNC || s->st_value == 0) continue;
            if (key < s->st_value || key - s->st_value >= (s->st_size ? s->st_size : 1)) continue;
            if (!copy_string(strs, strs_len, s->st_name, name, cap)) continue;
            *start = (uintptr_t)s->st_value;
            return true;
        }
    }
    return false;
}

/* --- file and line from .debug_line (DWARF 2 to 5) -------------------------
 * The line table is a small program per compilation unit whose rows map code
 * addresses to file and line (DWARF 5, section 6.2). Running it needs no
 * memory beyond a few locals: the row that holds an address is the last one
 * at or below it before the next row above it, within one sequence. */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint64_t read_n(reader *r, unsigned n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)r->p[i] << (8 * i); /* ELF on our targets: little-endian */
    r->p += n;
    return v;
}

static uint64_t read_uleb(reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; !r->bad; shift += 7) {
        if (r->p >= r->end || shift > 63) {
            r->bad = true;
            break;
        }
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) break;
    }
    return v;
}

static int64_t read_sleb(reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    unsigned char c = 0;
    do {
        if (r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
    } while (c & 0x80);
    if (shift < 64 && (c & 0x40)) v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

static const char *read_cstr(reader *r)
{
    const unsigned char *s = r->p;
    while (r->p < r->end && *r->p) r->p++;
    if (r->p >= r->end) {
        r->bad = true;
        return NULL;
    }
    r->p++;
    return (const char *)s;
}

typedef struct dwarf_strings {
    const char *str, *line_str;
    size_t str_len, line_str_len;
} dwarf_strings;

/* Skips or reads one attribute value of a DWARF 5 entry format. A string
 * value (a path) is returned through *text. */
static void read_form(reader *r, uint64_t form, bool offset64, const dwarf_strings *ds, const char **text)
{
    switch (form) {
    case 0x08: *text = read_cstr(r); break; /* DW_FORM_string */
    case 0x1f:                              /* DW_FORM_line_strp */
    case 0x0e: {                            /* DW_FORM_strp */
        uint64_t off = read_n(r, offset64 ? 8u : 4u);
        const char *base = form == 0x1f ? ds->line_str : ds->str;
        size_t len = form == 0x1f ? ds->line_str_len : ds->str_len;
        *text = base && off < len ? base + off : NULL;
        break;
    }
    case 0x0b: read_n(r, 1); break;  /* data1 */
    case 0x05: read_n(r, 2); break;  /* data2 */
    case 0x06: read_n(r, 4); break;  /* data4 */
    case 0x07: read_n(r, 8); break;  /* data8 */
    case 0x1e: read_n(r, 8); read_n(r, 8); break; /* data16 (MD5) */
    case 0x0f: read_uleb(r); break;  /* udata */
    case 0x09: {                     /* block */
        uint64_t n = read_uleb(r);
        if (n > (uint64_t)(r->end - r->p)) r->bad = true;
        else r->p += n;
        break;
    }
    default: r->bad = true; break; /* a form a line table header does not use */
    }
}

/* Finds file (base name) and line of key in the line tables. */
static bool line_lookup(const elf_view *v, uintptr_t key, char *file, size_t cap, unsigned long *line_out)
{
    size_t len;
    const unsigned char *sec = named_section(v, ".debug_line", &len);
    if (!sec) return false;
    dwarf_strings ds = {0};
    ds.str = (const char *)named_section(v, ".debug_str", &ds.str_len);
    ds.line_str = (const char *)named_section(v, ".debug_line_str", &ds.line_str_len);

    reader unit = {sec, sec + len, false};
    while (!unit.bad && unit.p < unit.end) {
        uint64_t unit_len = read_n(&unit, 4);
        bool offset64 = unit_len == 0xffffffffu;
        if (offset64) unit_len = read_n(&unit, 8);
        if (unit.bad || unit_len > (uint64_t)(unit.end - unit.p)) return false;
        reader r = {unit.p, unit.p + unit_len, false};
        unit.p += unit_len;

        unsigned version = (unsigned)read_n(&r, 2);
        if (version < 2 || version > 5) continue;
        unsigned addr_size = sizeof(uintptr_t);
        if (version >= 5) {
            addr_size = (unsigned)read_n(&r, 1);
            read_n(&r, 1); /* segment selector size */
        }
        uint64_t header_len = read_n(&r, offset64 ? 8u : 4u);
        if (r.bad || header_len > (uint64_t)(r.end - r.p)) continue;
        const unsigned char *program = r.p + header_len;
        unsigned min_inst = (unsigned)read_n(&r, 1);
        if (version >= 4) read_n(&r, 1); /* maximum operations per instruction (VLIW only) */
        read_n(&r, 1); /* default_is_stmt: every row counts for a report */
        int line_base = (int)(signed char)read_n(&r, 1);
        unsigned line_range = (unsigned)read_n(&r, 1);
        unsigned opcode_base = (unsigned)read_n(&r, 1);
        const unsigned char *std_lengths = r.p;
        if (r.bad || line_range == 0 || opcode_base == 0 || (size_t)(r.end - r.p) < opcode_base - 1u) continue;
        r.p += opcode_base - 1;

        /* The file table stays where it is; only its start is remembered,
         * and the name of the file a row names is looked up at the end. */
        const unsigned char *files_at;
        uint64_t file_formats[16][2];
        unsigned file_format_count = 0;
        if (version >= 5) {
            unsigned n = (unsigned)read_n(&r, 1);
            uint64_t formats[16][2];
            if (n > 16) continue;
            for (unsigned i = 0; i < n; i++) formats[i][0] = read_uleb(&r), formats[i][1] = read_uleb(&r);
            uint64_t dirs = read_uleb(&r);
            for (uint64_t d = 0; d < dirs && !r.bad; d++)
                for (unsigned i = 0; i < n; i++) {
                    const char *ignored = NULL;
                    read_form(&r, formats[i][1], offset64, &ds, &ignored);
                }
            file_format_count = (unsigned)read_n(&r, 1);
            if (file_format_count > 16) continue;
            for (unsigned i = 0; i < file_format_count; i++)
                file_formats[i][0] = read_uleb(&r), file_formats[i][1] = read_uleb(&r);
            files_at = r.p;
        } else {
            while (!r.bad && r.p < r.end && *r.p) read_cstr(&r); /* include directories */
            r.p++;
            files_at = r.p;
        }
        if (r.bad) continue;

        /* Run the line program. */
        reader pr = {program, r.end, false};
        uintptr_t address = 0, prev_address = 0;
        uint64_t file_index = 1, prev_file = 0;
        int64_t line = 1, prev_line = 0;
        bool have_prev = false, found = false;
        uint64_t hit_file = 0;
        int64_t hit_line = 0;
        while (!pr.bad && pr.p < pr.end && !found) {
            unsigned op = (unsigned)read_n(&pr, 1);
            bool emit = false, end_seq = false;
            if (op >= opcode_base) {
                unsigned adj = op - opcode_base;
                address += (uintptr_t)((adj / line_range) * min_inst);
                line += line_base + (int)(adj % line_range);
                emit = true;
            } else if (op == 0) {
                uint64_t n = read_uleb(&pr);
                if (n == 0 || n > (uint64_t)(pr.end - pr.p)) break;
                const unsigned char *next = pr.p + n;
                unsigned sub = (unsigned)read_n(&pr, 1);
                if (sub == 1) emit = end_seq = true;                          /* end_sequence */
                else if (sub == 2) address = (uintptr_t)read_n(&pr, addr_size); /* set_address */
                pr.p = next;
            } else {
                switch (op) {
                case 1: emit = true; break;                                             /* copy */
                case 2: address += (uintptr_t)(read_uleb(&pr) * min_inst); break;       /* advance_pc */
                case 3: line += read_sleb(&pr); break;                                  /* advance_line */
                case 4: file_index = read_uleb(&pr); break;                             /* set_file */
                case 8: address += (uintptr_t)(((255u - opcode_base) / line_range) * min_inst); break;
                case 9: address += (uintptr_t)read_n(&pr, 2); break;                    /* fixed_advance_pc */
                default:
                    for (unsigned k = 0; k < std_lengths[op - 1]; k++) read_uleb(&pr);
                    break;
                }
            }
            if (!emit) continue;
            if (have_prev && prev_address <= key && key < address) {
                found = true;
                hit_file = prev_file;
                hit_line = prev_line;
            }
            if (end_seq) {
                have_prev = false;
                address = 0;
                file_index = 1;
                line = 1;
            } else {
                have_prev = true;
                prev_address = address;
                prev_file = file_index;
                prev_line = line;
            }
        }
        if (!found || hit_line <= 0) continue;

        /* The name of file number hit_file (1-based before DWARF 5). */
        reader fr = {files_at, r.end, false};
        const char *path = NULL;
        if (version >= 5) {
            uint64_t count = read_uleb(&fr);
            for (uint64_t f = 0; f < count && !fr.bad && !path; f++)
                for (unsigned i = 0; i < file_format_count; i++) {
                    const char *text = NULL;
                    read_form(&fr, file_formats[i][1], offset64, &ds, &text);
                    if (f == hit_file && file_formats[i][0] == 1) path = text; /* DW_LNCT_path */
                }
        } else {
            for (uint64_t f = 1; !fr.bad && fr.p < fr.end && *fr.p; f++) {
                const char *name = read_cstr(&fr);
                read_uleb(&fr), read_uleb(&fr), read_uleb(&fr); /* directory, time, size */
                if (f == hit_file) {
                    path = name;
                    break;
                }
            }
        }
        if (!path) return false;
        const char *base_name = path;
        for (const char *c = path; *c && c < (const char *)v->file + v->size; c++)
            if (*c == '/') base_name = c + 1;
        if (!copy_string(base_name, (size_t)((const char *)v->file + v->size - base_name), 0, file, cap)) return false;
        *line_out = (unsigned long)hit_line;
        return true;
    }
    return false;
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
        char name[128], file[96];
        unsigned long line = 0;
        bool have_line = false;
        uintptr_t start = 0;
        const char *fn = NULL;
        if (info.dli_sname && info.dli_saddr) {
            fn = info.dli_sname;
            start = (uintptr_t)info.dli_saddr;
        }
        elf_view v;
        if (map_object(info.dli_fname, base, &v)) {
            /* Executables (ET_EXEC) number addresses absolutely; PIE and
             * shared objects (ET_DYN) from the load base. */
            uintptr_t bias = v.eh->e_type == ET_DYN ? base : 0;
            uintptr_t sym_start;
            if (!fn && symtab_lookup(&v, at - bias, name, sizeof name, &sym_start)) {
                fn = name;
                start = sym_start + bias;
            }
            have_line = line_lookup(&v, at - bias, file, sizeof file, &line);
            unmap_object(&v);
        }
        if (fn && have_line)
            alloc_format(buf, cap, "%s+0x%zx (%s:%lu, %s+0x%zx)", fn, (size_t)(addr - start), file, line, slash,
                         (size_t)(addr - base));
        else if (fn)
            alloc_format(buf, cap, "%s+0x%zx (%s+0x%zx)", fn, (size_t)(addr - start), slash, (size_t)(addr - base));
        else if (have_line)
            alloc_format(buf, cap, "%s+0x%zx (%s:%lu)", slash, (size_t)(addr - base), file, line);
        else
            alloc_format(buf, cap, "%s+0x%zx", slash, (size_t)(addr - base));
        return buf;
    }
#endif
    alloc_format(buf, cap, "%p", (void *)addr);
    return buf;
}
