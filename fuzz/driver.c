/*
 * driver.c: the model-based fuzz driver (driver.h).
 *
 * Input layout: byte 0 picks the target's variant; then each operation is an
 * opcode byte followed by the bytes its arguments need (a length class and
 * value, an alignment, a block index). A short input simply ends the stream;
 * every byte string is a valid program, so the fuzzer never wastes work on
 * rejected inputs.
 *
 * Contents are checked with one precomputed pattern: block k holds
 * pattern[off_k ... off_k + len), off_k derived from the block's own seed, so
 * fills and checks are memcpy/memcmp, and two overlapping blocks, or a block
 * whose bytes moved, disagree with the pattern.
 */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 256
#define MAX_MARKS 8
#define LEN_CAP ((size_t)65536)
#define ALIGN_CAP ((size_t)4096)
#define SEED_SPAN 509u /* prime, so seeds spread over the offsets */
#define PATTERN_LEN (LEN_CAP + SEED_SPAN)

static uint8_t pattern[PATTERN_LEN];
static uint64_t total_ops, total_inputs;

uint64_t fuzz_total_ops(void) { return total_ops; }
uint64_t fuzz_total_inputs(void) { return total_inputs; }

typedef struct blk {
    uint8_t *p;
    size_t len, align;
    unsigned seed;
} blk;

typedef struct model {
    const fuzz_target *t;
    fuzz_instance inst;
    blk b[MAX_BLOCKS];
    size_t n;
    size_t mark_at[MAX_MARKS]; /* shadow count when each mark was taken */
    desc_mark marks[MAX_MARKS];
    size_t nmarks;
    size_t bytes; /* sum of live lengths */
    unsigned next_seed;
    alloc_stats last;
    size_t op;
    const char *what;
} model;

typedef struct reader {
    const uint8_t *d;
    size_t n, i;
} reader;

static unsigned flags_of(const model *m) { return m->t->flags | m->inst.flags; }

static uint8_t u8(reader *r) { return r->i < r->n ? r->d[r->i++] : 0; }

static _Noreturn void finding(const model *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz %s: op %zu (%s): ", m->t->name, m->op, m->what ? m->what : "?");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void init_pattern(void)
{
    static bool done;
    if (done) return;
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < PATTERN_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pattern[i] = (uint8_t)(x >> 11);
    }
    done = true;
}

static const uint8_t *pat(unsigned seed) { return pattern + seed % SEED_SPAN; }

static size_t cap_len(const model *m)
{
    size_t top = m->inst.max_len ? m->inst.max_len : m->t->max_len;
    return top < LEN_CAP ? top : LEN_CAP;
}

/* Lengths: mostly small (the common case of every allocator), sometimes
 * medium or large, rarely up to the target's maximum (region and slab edges). */
static size_t read_len(model *m, reader *r)
{
    uint8_t b = u8(r);
    size_t len, cap = cap_len(m);
    switch (b >> 5) {
    case 0: case 1: case 2: case 3: len = 1 + (b & 31u); break;
    case 4: case 5: len = 1 + ((((size_t)b & 63) << 8) | u8(r)) % 1024; break;
    case 6: len = 1 + ((((size_t)b & 31) << 8) | u8(r)) % 8192; break;
    default: len = 1 + (((size_t)u8(r) << 8) | u8(r)) % cap; break;
    }
    return len < cap ? len : cap;
}

static size_t read_align(model *m, reader *r)
{
    uint8_t b = u8(r);
    size_t top = m->inst.max_align ? m->inst.max_align : m->t->max_align;
    if (top > ALIGN_CAP) top = ALIGN_CAP;
    unsigned lg = 0;
    while (((size_t)2 << lg) <= top) lg++;
    unsigned shift = b < 160 ? b % 5u : b % (lg + 1);
    size_t a = (size_t)1 << shift;
    return a <= top ? a : top;
}

static void verify(model *m, const blk *b, size_t len, const char *when)
{
    if (memcmp(b->p, pat(b->seed), len) != 0) {
        size_t at = 0;
        while (b->p[at] == pat(b->seed)[at]) at++;
        finding(m, "block %p (len %zu, align %zu) corrupted at byte %zu %s", (void *)b->p, b->len, b->align, at,
                when);
    }
}

static void verify_all(model *m, const char *when)
{
    for (size_t i = 0; i < m->n; i++) verify(m, &m->b[i], m->b[i].len, when);
}

static void check_placement(model *m, size_t self, const uint8_t *p, size_t len, size_t align)
{
    if (!alloc_is_aligned(p, align)) finding(m, "%p not aligned to %zu", (const void *)p, align);
    uintptr_t a0 = (uintptr_t)p, a1 = a0 + len;
    for (size_t i = 0; i < m->n; i++) {
        if (i == self) continue;
        uintptr_t b0 = (uintptr_t)m->b[i].p, b1 = b0 + m->b[i].len;
        if (a0 < b1 && b0 < a1)
            finding(m, "block %p+%zu overlaps live block %p+%zu", (const void *)p, len, (void *)m->b[i].p,
                    m->b[i].len);
    }
}

static void check_state(model *m)
{
    if (m->t->check && !m->t->check(&m->inst)) finding(m, "the target's own check failed");
    if (!desc_check(&m->inst.d)) finding(m, "invariant checker failed");
    if (!m->inst.d.desc->stats) return;
    alloc_stats s;
    if (!desc_stats(&m->inst.d, &s)) finding(m, "stats failed");
    const alloc_stats *o = &m->last;
    if (s.peak_bytes_in_use < o->peak_bytes_in_use || s.peak_bytes_reserved < o->peak_bytes_reserved ||
        s.alloc_count < o->alloc_count || s.free_count < o->free_count || s.resize_count < o->resize_count ||
        s.remap_count < o->remap_count || s.failed_count < o->failed_count || s.misuse_count < o->misuse_count)
        finding(m, "a count or peak decreased");
    if (s.bytes_in_use > s.peak_bytes_in_use || s.bytes_reserved > s.peak_bytes_reserved)
        finding(m, "current above peak");
    if (!(flags_of(m) & FUZZ_INEXACT_STATS) && s.bytes_in_use != m->bytes)
        finding(m, "stats say %zu bytes in use, the model %zu", s.bytes_in_use, m->bytes);
    m->last = s;
}

/* The range of blocks operations may touch: above the newest mark. */
static size_t lowest_touchable(const model *m) { return m->nmarks ? m->mark_at[m->nmarks - 1] : 0; }

/* Picks a block index, or -1 when none may be touched. */
static long pick(model *m, reader *r)
{
    size_t lo = lowest_touchable(m);
    uint8_t b = u8(r);
    if (m->n <= lo) return -1;
    if (flags_of(m) & FUZZ_LIFO) return (long)(m->n - 1);
    return (long)(lo + b % (m->n - lo));
}

static void do_alloc(model *m, reader *r)
{
    m->what = "alloc";
    size_t len = read_len(m, r), align = read_align(m, r);
    if (m->n == MAX_BLOCKS) return;
    uint8_t *p = alloc_bytes(m->inst.d.a, len, align);
    if (!p) {
        if (!(flags_of(m) & FUZZ_MAY_FAIL)) finding(m, "alloc(%zu, %zu) failed", len, align);
        return;
    }
    check_placement(m, SIZE_MAX, p, len, align);
    blk nb = {p, len, align, m->next_seed++};
    memcpy(p, pat(nb.seed), len);
    m->b[m->n++] = nb;
    m->bytes += len;
}

static void forget(model *m, size_t i)
{
    m->bytes -= m->b[i].len;
    memmove(&m->b[i], &m->b[i + 1], (m->n - i - 1) * sizeof m->b[0]);
    m->n--;
}

static void do_free(model *m, reader *r)
{
    m->what = "free";
    long i = pick(m, r);
    if (i < 0) return;
    blk *b = &m->b[i];
    verify(m, b, b->len, "before free");
    alloc_free(m->inst.d.a, b->p, b->len, b->align);
    forget(m, (size_t)i);
}

/* mode 0 resize, 1 remap, 2 realloc. */
static void do_change(model *m, reader *r, int mode)
{
    m->what = mode == 0 ? "resize" : mode == 1 ? "remap" : "realloc";
    long i = pick(m, r);
    size_t new_len = read_len(m, r);
    if (i < 0) return;
    blk *b = &m->b[i];
    verify(m, b, b->len, "before resize");
    uint8_t *q;
    if (mode == 0)
        q = alloc_resize(m->inst.d.a, b->p, b->len, b->align, new_len) ? b->p : NULL;
    else if (mode == 1)
        q = alloc_remap(m->inst.d.a, b->p, b->len, b->align, new_len);
    else
        q = alloc_realloc(m->inst.d.a, b->p, b->len, b->align, new_len);
    if (!q) {
        if (mode == 2 && !(flags_of(m) & FUZZ_MAY_FAIL)) finding(m, "realloc to %zu failed", new_len);
        verify(m, b, b->len, "after a failed resize");
        return;
    }
    size_t keep = b->len < new_len ? b->len : new_len;
    blk moved = *b;
    moved.p = q;
    verify(m, &moved, keep, "across the resize");
    check_placement(m, (size_t)i, q, new_len, b->align);
    m->bytes = m->bytes - b->len + new_len;
    b->p = q;
    b->len = new_len;
    memcpy(q, pat(b->seed), new_len);
}

static void do_save(model *m)
{
    m->what = "save";
    if (m->nmarks == MAX_MARKS) return;
    if (desc_save(&m->inst.d, &m->marks[m->nmarks])) m->mark_at[m->nmarks++] = m->n;
}

static void do_restore(model *m)
{
    m->what = "restore";
    m->nmarks--;
    desc_restore(&m->inst.d, &m->marks[m->nmarks]);
    while (m->n > m->mark_at[m->nmarks]) forget(m, m->n - 1);
}

static void do_reset(model *m)
{
    m->what = "reset";
    desc_reset(&m->inst.d);
    m->n = 0;
    m->bytes = 0;
    m->nmarks = 0;
}

size_t fuzz_run(const fuzz_target *t, const uint8_t *data, size_t size)
{
    init_pattern();
    static model m;
    memset(&m, 0, sizeof m);
    m.t = t;
    m.what = "make";
    reader r = {data, size, 0};
    uint8_t variant = u8(&r);
    if (!t->make(&m.inst, variant)) finding(&m, "make failed (variant %u)", variant);
    check_state(&m);
    bool lifo_only = (flags_of(&m) & (FUZZ_LIFO | FUZZ_NO_REALLOC)) != 0;
    while (r.i < r.n) {
        m.op++;
        uint8_t op = u8(&r) % 16;
        switch (op) {
        case 0: case 1: case 2: case 3: case 4: case 5: do_alloc(&m, &r); break;
        case 6: case 7: case 8: case 12: do_free(&m, &r); break;
        case 9: do_change(&m, &r, 0); break;
        case 10: do_change(&m, &r, 1); break;
        case 11: do_change(&m, &r, lifo_only ? 1 : 2); break;
        case 13:
            if (m.inst.d.desc->save) do_save(&m);
            else do_alloc(&m, &r);
            break;
        case 14:
            if (m.nmarks) do_restore(&m);
            else do_free(&m, &r);
            break;
        default:
            /* Rare: a reset needs a second byte below 32. */
            if (m.inst.d.desc->reset && u8(&r) < 32) do_reset(&m);
            else {
                m.what = "verify all";
                verify_all(&m, "at a full check");
            }
            break;
        }
        check_state(&m);
        if (m.op % 64 == 0) verify_all(&m, "at a periodic check");
    }
    m.what = "final";
    verify_all(&m, "at the end");
    while (m.nmarks) {
        do_restore(&m);
        check_state(&m);
    }
    m.what = "cleanup";
    while (m.n) {
        blk *b = &m.b[m.n - 1];
        alloc_free(m.inst.d.a, b->p, b->len, b->align);
        forget(&m, m.n - 1);
        check_state(&m);
    }
    desc_destroy(&m.inst.d);
    total_ops += m.op;
    total_inputs++;
    return m.op;
}
