/*
 * debug.c: the debug wrapper (debug.h).
 *
 * Algorithm. Every block the wrapper hands out has a record in an
 * open-addressing hash table keyed by its address (linear probing, Fibonacci
 * hashing of the address, power-of-two size, at most half full). Deletion
 * shifts the following cluster back instead of leaving tombstones, so a probe
 * sequence always ends at the first empty slot and lookups stay O(1) expected
 * however long the wrapper lives. A record is either live (len > 0) or a
 * freed record (len == 0) remembering who allocated and who freed an address;
 * a ring of the most recent frees bounds how many freed records exist, the
 * oldest dropped first. An address is never live and freed at once: when the
 * inner allocator hands out a remembered address again, its freed record
 * becomes the new live one. So one address can have several ring entries (one
 * per free) but only one record, which belongs to its newest free; each entry
 * carries the serial of the allocation it freed, and an entry leaving the ring
 * drops the record only if the record still carries that serial. Without that
 * test a recycled address would lose the memory of its newer free when the
 * entry of its first free left the ring, and a double free would read as
 * foreign.
 *
 * Layout of a block in the inner allocator:
 *
 *     mem                      mem + len             mem + len + canary_len
 *     | user bytes (len)       | canary bytes         |
 *
 * The canary is a byte pattern derived from the block's address (so a stale
 * copy of another block's canary does not pass), poisoned for ASan and
 * NOACCESS for Valgrind while the block is live, so sanitizer builds catch an
 * overrun at the faulting instruction and other builds at the next check,
 * resize, remap or free of the block. Before the inner allocator sees the
 * block again its canary is made accessible, because the inner allocator may
 * keep metadata there once the block is freed or shrunk.
 *
 * Failure leaves no trace: the table grows (if it must) before the inner
 * allocator is asked, so a failed growth fails the request with nothing
 * allocated, and an inner failure leaves the table as it was.
 *
 * Bounds: O(1) expected per operation plus O(canary_len) (and O(len) with
 * fill on); growth rehashes in O(table). Metadata: sizeof(alloc_debug_slot)
 * (48 bytes on LP64) per record, the table between 2x and 4x the record count,
 * plus one word per remembered freed address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"
#include "alloc/debug.h"
#include "alloc/os.h"
#include "alloc/page.h"

#define MIN_SLOTS 64u
#define MAX_REPORT_SITES 32u

/* --- small helpers ------------------------------------------------------- */

static size_t round_pow2(size_t n)
{
    size_t p = 1;
    while (p < n && p <= SIZE_MAX / 2) p *= 2;
    return p;
}

static size_t home_slot(const alloc_debug *d, uintptr_t addr)
{
    /* Fibonacci hashing: the multiply spreads the aligned low bits upwards,
     * and the top bits of the product are the best mixed. */
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32 ^ h) & (d->slot_count - 1);
}

static uint8_t canary_byte(uintptr_t block, size_t i)
{
    return (uint8_t)(0xC3u ^ (uint8_t)(block >> 4) ^ (uint8_t)(i * 0x1Du));
}

static uintptr_t site_or_caller(uintptr_t ret_addr, uintptr_t fallback)
{
    return ret_addr ? ret_addr : fallback;
}

/* Finds the slot holding addr, or the empty slot that ends its probe sequence. */
static size_t probe(const alloc_debug *d, uintptr_t addr)
{
    size_t mask = d->slot_count - 1, i = home_slot(d, addr);
    while (d->slots[i].addr != 0 && d->slots[i].addr != addr) i = (i + 1) & mask;
    return i;
}

/* Removes the record in slot i, shifting the rest of its cluster back. */
static void remove_slot(alloc_debug *d, size_t i)
{
    size_t mask = d->slot_count - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (d->slots[j].addr == 0) break;
        size_t home = home_slot(d, d->slots[j].addr);
        /* The record at j may move to the hole at i unless its home lies
         * cyclically in (i, j], where the hole is not on its probe path. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        d->slots[i] = d->slots[j];
        i = j;
    }
    memset(&d->slots[i], 0, sizeof d->slots[i]);
    d->used--;
}

static void *meta_alloc(alloc_debug *d, size_t n, size_t size, size_t align)
{
    void *p = alloc_array_at(d->meta, n, size, align, 0);
    if (p) memset(p, 0, n * size);
    return p;
}

/* Makes room for extra more records; false (nothing changed) if it cannot. */
static bool reserve_records(alloc_debug *d, size_t extra)
{
    if ((d->used + extra) * 2 <= d->slot_count) return true;
    if (d->slot_count > SIZE_MAX / 2 / sizeof(alloc_debug_slot)) return false;
    size_t new_count = d->slot_count * 2;
    alloc_debug_slot *fresh = meta_alloc(d, new_count, sizeof *fresh, _Alignof(alloc_debug_slot));
    if (!fresh) return false;
    alloc_debug_slot *old = d->slots;
    size_t old_count = d->slot_count;
    d->slots = fresh;
    d->slot_count = new_count;
    for (size_t i = 0; i < old_count; i++) {
        if (old[i].addr == 0) continue;
        d->slots[probe(d, old[i].addr)] = old[i];
    }
    alloc_free_at(d->meta, old, old_count * sizeof *old, _Alignof(alloc_debug_slot), 0);
    alloc_stats_note_reserve(&d->stats, new_count * sizeof *fresh);
    alloc_stats_note_release(&d->stats, old_count * sizeof *old);
    return true;
}

/* --- canaries -------------------------------------------------------------- */

static void canary_write(const alloc_debug *d, void *mem, size_t len)
{
    size_t c = d->opt.canary_len;
    if (c == 0) return;
    uint8_t *p = (uint8_t *)mem + len;
    ALLOC_TRACK_UNDEFINED(p, c);
    for (size_t i = 0; i < c; i++) p[i] = canary_byte((uintptr_t)mem, i);
    ALLOC_TRACK_NOACCESS(p, c);
}

/* Gives the canary back to the inner allocator's use (accessible bytes). */
static void canary_release(const alloc_debug *d, void *mem, size_t len)
{
    if (d->opt.canary_len) ALLOC_TRACK_DEFINED((uint8_t *)mem + len, d->opt.canary_len);
}

/* Offset of the first damaged canary byte, or canary_len if intact. */
static size_t canary_damage(const alloc_debug *d, const void *mem, size_t len)
{
    size_t c = d->opt.canary_len;
    if (c == 0) return 0;
    const uint8_t *p = (const uint8_t *)mem + len;
    ALLOC_TRACK_DEFINED(p, c);
    size_t i = 0;
    while (i < c && p[i] == canary_byte((uintptr_t)mem, i)) i++;
    ALLOC_TRACK_NOACCESS(p, c);
    return i;
}

static bool canary_intact(const alloc_debug *d, const alloc_debug_slot *s, const char *op, uintptr_t site)
{
    size_t at = canary_damage(d, (const void *)s->addr, s->len);
    if (at == d->opt.canary_len) return true;
    char a[ALLOC_SITE_BUF], b[ALLOC_SITE_BUF];
    alloc_report_misuse("debug: buffer overrun: block %p (len %zu, allocated at %s) written past its end "
                        "(canary byte +%zu damaged), detected at %s called from %s",
                        (void *)s->addr, s->len, alloc_describe_addr(s->alloc_site, a, sizeof a), at, op,
                        alloc_describe_addr(site, b, sizeof b));
    return false;
}

/* --- the freed-address history ---------------------------------------------- */

static void history_push(alloc_debug *d, uintptr_t addr, uint64_t serial)
{
    if (d->history_len == d->history_cap) {
        alloc_debug_freed oldest = d->history[d->history_head];
        d->history_head = (d->history_head + 1) & (d->history_cap - 1);
        d->history_len--;
        size_t i = probe(d, oldest.addr);
        /* The address may be live again, or freed again since: then the
         * record belongs to a newer allocation (another serial), whose own
         * ring entry is younger, and stays. Only a record still describing
         * this entry's free goes. */
        if (d->slots[i].addr == oldest.addr && d->slots[i].len == 0 && d->slots[i].serial == oldest.serial)
            remove_slot(d, i);
    }
    d->history[(d->history_head + d->history_len) & (d->history_cap - 1)] = (alloc_debug_freed){addr, serial};
    d->history_len++;
}

/* Turns the live record in slot i into a freed record (or drops it). The
 * freed record keeps the allocation's serial, which ties it to its ring entry. */
static void retire(alloc_debug *d, size_t i, uintptr_t free_site)
{
    if (d->history_cap == 0) {
        remove_slot(d, i);
        return;
    }
    uintptr_t addr = d->slots[i].addr;
    d->slots[i].len = 0;
    d->slots[i].last_site = free_site;
    history_push(d, addr, d->slots[i].serial);
}

/* --- contract checks ------------------------------------------------------- */

/*
 * The live record for mem, after checking the call against it. Reports
 * misuse and returns NULL for a foreign or freed address or a len/align that
 * differ. op names the operation in messages.
 */
static alloc_debug_slot *checked_record(alloc_debug *d, const void *mem, size_t len, size_t align,
                                        const char *op, uintptr_t site)
{
    char a[ALLOC_SITE_BUF], b[ALLOC_SITE_BUF];
    if (ALLOC_UNLIKELY(d->slot_count == 0)) {
        alloc_report_misuse_from(site, "debug: %s(%p) on a debug wrapper after its deinit", op, mem);
        return NULL;
    }
    alloc_debug_slot *s = &d->slots[probe(d, (uintptr_t)mem)];
    if (ALLOC_UNLIKELY(s->addr == 0)) {
        alloc_report_misuse_from(site,
                                 "debug: %s of %p: foreign pointer (this allocator did not hand it out, or freed "
                                 "it longer ago than its freed-address history of %zu frees remembers)",
                                 op, mem, d->history_cap);
        return NULL;
    }
    if (ALLOC_UNLIKELY(s->len == 0)) {
        /* free of a freed block is a double free; resize or remap of one
         * touches memory the caller gave up: a use after free. */
        bool is_free = strcmp(op, "free") == 0;
        alloc_report_misuse_from(site, "debug: %s of %p, already freed (%s): allocated at %s, freed at %s", op, mem,
                                 is_free ? "double free" : "use after free",
                                 alloc_describe_addr(s->alloc_site, a, sizeof a),
                                 alloc_describe_addr(s->last_site, b, sizeof b));
        return NULL;
    }
    if (ALLOC_UNLIKELY(s->len != len)) {
        alloc_report_misuse_from(site,
                                 "debug: %s of %p with len %zu, but the block has len %zu (allocated at %s, last "
                                 "sized at %s)",
                                 op, mem, len, s->len, alloc_describe_addr(s->alloc_site, a, sizeof a),
                                 alloc_describe_addr(s->last_site, b, sizeof b));
        return NULL;
    }
    if (ALLOC_UNLIKELY(s->align != align)) {
        alloc_report_misuse_from(site, "debug: %s of %p with align %zu, but it was allocated with align %zu at %s",
                                 op, mem, align, s->align, alloc_describe_addr(s->alloc_site, a, sizeof a));
        return NULL;
    }
    if (!canary_intact(d, s, op, site)) return NULL;
    return s;
}

/* The inner length for a user length, or 0 on overflow. */
static size_t inner_len(const alloc_debug *d, size_t len)
{
    if (len > ALLOC_MAX_LEN - d->opt.canary_len) return 0;
    return len + d->opt.canary_len;
}

/* Checks what the inner allocator gave back; its broken contract is fatal. */
static void check_inner_result(const alloc_debug *d, const void *p, size_t align, const char *op)
{
    ALLOC_CHECK(alloc_is_aligned(p, align), "debug: inner allocator's %s returned %p, not aligned to %zu", op, p,
                align);
    size_t i = probe(d, (uintptr_t)p);
    ALLOC_CHECK(d->slots[i].addr == 0 || d->slots[i].len == 0,
                "debug: inner allocator's %s returned %p, which is still live (allocated at %p)", op, p,
                (void *)d->slots[i].alloc_site);
}

/* --- the vtable ------------------------------------------------------------- */

static void *debug_alloc(void *ctx, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_debug *d = ctx;
    uintptr_t site = site_or_caller(ret_addr, ALLOC_RET_ADDR());
    if (ALLOC_UNLIKELY(d->slot_count == 0)) {
        alloc_report_misuse_from(site, "debug: alloc on a debug wrapper after its deinit");
        return NULL;
    }
    size_t n = inner_len(d, len);
    if (n == 0 || !reserve_records(d, 1)) {
        alloc_stats_note_failed(&d->stats);
        return NULL;
    }
    uint8_t *p = d->inner.vtable->alloc(d->inner.ctx, n, align, site);
    if (!p) {
        alloc_stats_note_failed(&d->stats);
        return NULL;
    }
    check_inner_result(d, p, align, "alloc");
    size_t i = probe(d, (uintptr_t)p);
    if (d->slots[i].addr == 0) d->used++;
    d->slots[i] = (alloc_debug_slot){(uintptr_t)p, len, align, site, site, ++d->next_serial};
    d->live++;
    if (d->opt.fill) memset(p, ALLOC_FILL_ALLOCATED, len);
    canary_write(d, p, len);
    alloc_stats_note_alloc(&d->stats, len);
    alloc_stats_note_reserve(&d->stats, n);
    return p;
}

static bool debug_resize(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_debug *d = ctx;
    uintptr_t site = site_or_caller(ret_addr, ALLOC_RET_ADDR());
    alloc_debug_slot *s = checked_record(d, mem, len, align, "resize", site);
    if (!s) {
        if (d->slot_count) alloc_stats_note_misuse(&d->stats);
        return false;
    }
    size_t n = inner_len(d, new_len);
    if (n == 0) return false;
    canary_release(d, mem, len);
    if (!d->inner.vtable->resize(d->inner.ctx, mem, len + d->opt.canary_len, align, n, site)) {
        canary_write(d, mem, len);
        return false;
    }
    if (d->opt.fill && new_len > len) memset((uint8_t *)mem + len, ALLOC_FILL_ALLOCATED, new_len - len);
    canary_write(d, mem, new_len);
    s->len = new_len;
    s->last_site = site;
    alloc_stats_note_resize(&d->stats, len, new_len, true);
    alloc_stats_note_release(&d->stats, len + d->opt.canary_len);
    alloc_stats_note_reserve(&d->stats, n);
    return true;
}

static void *debug_remap(void *ctx, void *mem, size_t len, size_t align, size_t new_len, uintptr_t ret_addr)
{
    alloc_debug *d = ctx;
    uintptr_t site = site_or_caller(ret_addr, ALLOC_RET_ADDR());
    alloc_debug_slot *s = checked_record(d, mem, len, align, "remap", site);
    if (!s) {
        if (d->slot_count) alloc_stats_note_misuse(&d->stats);
        return NULL;
    }
    size_t n = inner_len(d, new_len);
    /* A move needs a new live record and a freed one for the old address. */
    if (n == 0 || !reserve_records(d, 2)) {
        alloc_stats_note_failed(&d->stats);
        return NULL;
    }
    s = &d->slots[probe(d, (uintptr_t)mem)]; /* the table may have been rebuilt */
    alloc_debug_slot rec = *s;
    canary_release(d, mem, len);
    uint8_t *q = d->inner.vtable->remap(d->inner.ctx, mem, len + d->opt.canary_len, align, n, site);
    if (!q) {
        canary_write(d, mem, len);
        alloc_stats_note_failed(&d->stats);
        return NULL;
    }
    rec.len = new_len;
    rec.last_site = site;
    if (q != (uint8_t *)mem) {
        check_inner_result(d, q, align, "remap");
        /* The old address now reads as freed by this remap, so a later use of
         * it is reported as such. */
        retire(d, probe(d, (uintptr_t)mem), site);
        size_t j = probe(d, (uintptr_t)q);
        if (d->slots[j].addr == 0) d->used++;
        d->slots[j] = rec;
        d->slots[j].addr = (uintptr_t)q;
    } else {
        *s = rec;
    }
    if (d->opt.fill && new_len > len) memset(q + len, ALLOC_FILL_ALLOCATED, new_len - len);
    canary_write(d, q, new_len);
    alloc_stats_note_resize(&d->stats, len, new_len, false);
    alloc_stats_note_release(&d->stats, len + d->opt.canary_len);
    alloc_stats_note_reserve(&d->stats, n);
    return q;
}

static void debug_free(void *ctx, void *mem, size_t len, size_t align, uintptr_t ret_addr)
{
    alloc_debug *d = ctx;
    uintptr_t site = site_or_caller(ret_addr, ALLOC_RET_ADDR());
    alloc_debug_slot *s = checked_record(d, mem, len, align, "free", site);
    if (!s) {
        if (d->slot_count) alloc_stats_note_misuse(&d->stats);
        return;
    }
    canary_release(d, mem, len);
    if (d->opt.fill) memset(mem, ALLOC_FILL_FREED, len);
    d->inner.vtable->free(d->inner.ctx, mem, len + d->opt.canary_len, align, site);
    d->live--;
    retire(d, (size_t)(s - d->slots), site);
    alloc_stats_note_free(&d->stats, len);
    alloc_stats_note_release(&d->stats, len + d->opt.canary_len);
}

#if ALLOC_DEBUG >= 2
static bool debug_records_hold(const alloc_debug *d);
#endif
ALLOC_CHECKED_VTABLE(debug_vtable, debug_alloc, debug_resize, debug_remap, debug_free, debug_records_hold);

/* --- lifetime ------------------------------------------------------------- */

static void stderr_sink(const char *line, void *user)
{
    (void)user;
    alloc_os_write_stderr(line, strlen(line));
    alloc_os_write_stderr("\n", 1);
}

alloc_debug_options alloc_debug_default_options(void)
{
    alloc_debug_options o;
    memset(&o, 0, sizeof o);
    o.canary_len = 16;
    o.fill = true;
    o.report_leaks_at_deinit = true;
    o.freed_history = 1024;
    return o;
}

int alloc_debug_init(alloc_debug *d, allocator inner, const alloc_debug_options *opt)
{
    if (!d || !inner.vtable) return -EINVAL;
    alloc_debug t;
    memset(&t, 0, sizeof t);
    t.opt = opt ? *opt : alloc_debug_default_options();
    if (t.opt.canary_len > ALLOC_DEBUG_MAX_CANARY) t.opt.canary_len = ALLOC_DEBUG_MAX_CANARY;
    if (t.opt.freed_history > (SIZE_MAX >> 4)) return -EINVAL;
    if (!t.opt.meta.vtable) t.opt.meta = alloc_page_allocator();
    if (!t.opt.sink) t.opt.sink = stderr_sink;
    t.inner = inner;
    t.meta = t.opt.meta;
    t.history_cap = t.opt.freed_history ? round_pow2(t.opt.freed_history) : 0;
    t.slot_count = round_pow2(2 * (t.history_cap + MIN_SLOTS / 2));
    t.slots = meta_alloc(&t, t.slot_count, sizeof *t.slots, _Alignof(alloc_debug_slot));
    if (!t.slots) return -ENOMEM;
    if (t.history_cap) {
        t.history = meta_alloc(&t, t.history_cap, sizeof *t.history, _Alignof(alloc_debug_freed));
        if (!t.history) {
            alloc_free_at(t.meta, t.slots, t.slot_count * sizeof *t.slots, _Alignof(alloc_debug_slot), 0);
            return -ENOMEM;
        }
    }
    alloc_stats_note_reserve(&t.stats, t.slot_count * sizeof *t.slots + t.history_cap * sizeof *t.history);
    *d = t;
    return 0;
}

static int by_serial_desc(const void *a, const void *b)
{
    const alloc_debug_slot *x = *(const alloc_debug_slot *const *)a, *y = *(const alloc_debug_slot *const *)b;
    return x->serial < y->serial ? 1 : x->serial > y->serial ? -1 : 0;
}

/* Gives one leaked block back to the inner allocator. */
static void release_block(alloc_debug *d, alloc_debug_slot *s)
{
    canary_release(d, (void *)s->addr, s->len);
    d->inner.vtable->free(d->inner.ctx, (void *)s->addr, s->len + d->opt.canary_len, s->align, s->alloc_site);
}

size_t alloc_debug_deinit(alloc_debug *d)
{
    if (d->slot_count == 0) return 0;
    size_t leaked = d->live;
    if (leaked && d->opt.report_leaks_at_deinit) alloc_debug_report_leaks(d);
    if (leaked && d->opt.leaks_are_misuse) {
        const alloc_debug_slot *first = NULL;
        for (size_t i = 0; i < d->slot_count; i++) {
            const alloc_debug_slot *s = &d->slots[i];
            if (s->addr && s->len && (!first || s->serial < first->serial)) first = s;
        }
        char a[ALLOC_SITE_BUF];
        alloc_report_misuse("debug: %zu blocks (%zu bytes) leaked at deinit; the oldest, %p (len %zu), "
                            "allocated at %s",
                            leaked, d->stats.bytes_in_use, (void *)first->addr, first->len,
                            alloc_describe_addr(first->alloc_site, a, sizeof a));
    }
    if (leaked) {
        /* Newest first, so LIFO inner allocators (stack, bump) see a legal order. */
        alloc_debug_slot **order = (alloc_debug_slot **)alloc_array_at(d->meta, leaked, sizeof *order,
                                                                      _Alignof(alloc_debug_slot *), 0);
        if (order) {
            size_t k = 0;
            for (size_t i = 0; i < d->slot_count; i++)
                if (d->slots[i].addr && d->slots[i].len) order[k++] = &d->slots[i];
            qsort(order, k, sizeof *order, by_serial_desc);
            for (size_t i = 0; i < k; i++) release_block(d, order[i]);
            alloc_free_at(d->meta, order, leaked * sizeof *order, _Alignof(alloc_debug_slot *), 0);
        } else {
            /* No memory for the order: repeated maximum search, O(n^2). */
            for (size_t left = leaked; left; left--) {
                alloc_debug_slot *best = NULL;
                for (size_t i = 0; i < d->slot_count; i++) {
                    alloc_debug_slot *s = &d->slots[i];
                    if (s->addr && s->len && (!best || s->serial > best->serial)) best = s;
                }
                release_block(d, best);
                best->len = 0;
            }
        }
    }
    alloc_free_at(d->meta, d->slots, d->slot_count * sizeof *d->slots, _Alignof(alloc_debug_slot), 0);
    if (d->history)
        alloc_free_at(d->meta, d->history, d->history_cap * sizeof *d->history, _Alignof(alloc_debug_freed), 0);
    d->slots = NULL;
    d->history = NULL;
    d->slot_count = 0;
    d->used = d->live = 0;
    return leaked;
}

allocator alloc_debug_allocator(alloc_debug *d) { return (allocator){d, &debug_vtable}; }

/* --- inspection ------------------------------------------------------------- */

static alloc_debug_block block_of(const alloc_debug_slot *s)
{
    return (alloc_debug_block){(void *)s->addr, s->len, s->align, s->alloc_site, s->last_site, s->serial};
}

size_t alloc_debug_live_blocks(const alloc_debug *d, size_t *bytes)
{
    if (bytes) *bytes = d->stats.bytes_in_use;
    return d->live;
}

bool alloc_debug_walk(const alloc_debug *d, alloc_walker walker, void *user)
{
    for (size_t i = 0; i < d->slot_count; i++) {
        const alloc_debug_slot *s = &d->slots[i];
        if (!s->addr || !s->len) continue;
        if (!walker((void *)s->addr, s->len, true, user)) return false;
    }
    return true;
}

bool alloc_debug_find(const alloc_debug *d, const void *mem, alloc_debug_block *out)
{
    if (d->slot_count == 0 || mem == NULL) return false;
    const alloc_debug_slot *s = &d->slots[probe(d, (uintptr_t)mem)];
    if (!s->addr || !s->len) return false;
    if (out) *out = block_of(s);
    return true;
}

typedef struct site_sum {
    uintptr_t site;
    size_t blocks, bytes;
    const alloc_debug_slot *first; /* the oldest block from this site */
} site_sum;

size_t alloc_debug_report_leaks(const alloc_debug *d)
{
    if (d->live == 0 || d->slot_count == 0) return 0;
    site_sum sites[MAX_REPORT_SITES];
    size_t nsites = 0, other_blocks = 0, other_bytes = 0;
    for (size_t i = 0; i < d->slot_count; i++) {
        const alloc_debug_slot *s = &d->slots[i];
        if (!s->addr || !s->len) continue;
        size_t k = 0;
        while (k < nsites && sites[k].site != s->alloc_site) k++;
        if (k == nsites) {
            if (nsites == MAX_REPORT_SITES) {
                other_blocks++;
                other_bytes += s->len;
                continue;
            }
            sites[nsites++] = (site_sum){s->alloc_site, 0, 0, s};
        }
        sites[k].blocks++;
        sites[k].bytes += s->len;
        if (s->serial < sites[k].first->serial) sites[k].first = s;
    }
    /* Largest first: insertion sort of at most 32 entries. */
    for (size_t i = 1; i < nsites; i++) {
        site_sum t = sites[i];
        size_t j = i;
        while (j > 0 && sites[j - 1].bytes < t.bytes) {
            sites[j] = sites[j - 1];
            j--;
        }
        sites[j] = t;
    }
    char line[512], where[ALLOC_SITE_BUF];
    alloc_format(line, sizeof line, "alloc debug: leak: %zu blocks, %zu bytes still allocated (of %llu allocations)",
                 d->live, d->stats.bytes_in_use, (unsigned long long)d->stats.alloc_count);
    d->opt.sink(line, d->opt.sink_user);
    for (size_t k = 0; k < nsites; k++) {
        const alloc_debug_slot *f = sites[k].first;
        alloc_format(line, sizeof line, "  %zu blocks, %zu bytes, allocated at %s (first: %p, len %zu, align %zu, "
                     "allocation #%llu)",
                     sites[k].blocks, sites[k].bytes, alloc_describe_addr(sites[k].site, where, sizeof where),
                     (void *)f->addr, f->len, f->align, (unsigned long long)f->serial);
        d->opt.sink(line, d->opt.sink_user);
    }
    if (other_blocks) {
        alloc_format(line, sizeof line, "  %zu blocks, %zu bytes, from other call sites", other_blocks, other_bytes);
        d->opt.sink(line, d->opt.sink_user);
    }
    return d->live;
}

/* The integrity callback of the check's walk: a live block's record is where
 * a lookup finds it, with a sane alignment the block has, and (when asked)
 * its canary is intact. */
typedef struct block_audit {
    const alloc_debug *d;
    bool canaries;
    size_t live, bytes;
} block_audit;

static bool audit_block(void *mem, size_t len, bool used, void *user)
{
    block_audit *a = user;
    const alloc_debug_slot *s = &a->d->slots[probe(a->d, (uintptr_t)mem)];
    if (!used || s->addr != (uintptr_t)mem || s->len != len) return false;
    if (!alloc_is_pow2(s->align) || !alloc_is_aligned(mem, s->align)) return false;
    if (a->canaries && !canary_intact(a->d, s, "check", 0)) return false;
    a->live++;
    a->bytes += len;
    return true;
}

/* The check; canaries says whether damaged canaries (the user's overruns,
 * reported as misuse) count, or only the wrapper's own records. */
static bool debug_holds(const alloc_debug *d, bool canaries)
{
    if (d->slot_count == 0) return d->live == 0 && d->used == 0;
    if (!alloc_is_pow2(d->slot_count) || d->used * 2 > d->slot_count) return false;
    if (!alloc_stats_consistent(&d->stats)) return false;
    size_t used = 0, mask = d->slot_count - 1;
    for (size_t i = 0; i < d->slot_count; i++) {
        if (!d->slots[i].addr) continue;
        used++;
        /* Reachable: no empty slot between its home and where it sits. */
        for (size_t j = home_slot(d, d->slots[i].addr); j != i; j = (j + 1) & mask)
            if (!d->slots[j].addr) return false;
    }
    block_audit a = {d, canaries, 0, 0};
    if (!alloc_debug_walk(d, audit_block, &a)) return false;
    size_t live = a.live;
    if (live != d->live || used != d->used || a.bytes != d->stats.bytes_in_use) return false;
    /* Every freed record is owned by exactly one ring entry (same address and
     * serial); entries of older frees of a recycled address own none. */
    size_t owned = 0;
    for (size_t k = 0; k < d->history_len; k++) {
        alloc_debug_freed e = d->history[(d->history_head + k) & (d->history_cap - 1)];
        const alloc_debug_slot *s = &d->slots[probe(d, e.addr)];
        if (s->addr == e.addr && s->len == 0 && s->serial == e.serial) owned++;
    }
    if (owned != used - live) return false;
    return d->stats.alloc_count - d->stats.free_count == d->live;
}

bool alloc_debug_check(const alloc_debug *d) { return debug_holds(d, true); }

/* What ALLOC_DEBUG=2 checks after every operation: the wrapper's records, not
 * the user's overruns (those are misuse, reported when the block is freed or
 * alloc_debug_check runs, and a test may provoke one on purpose). */
#if ALLOC_DEBUG >= 2
static bool debug_records_hold(const alloc_debug *d) { return debug_holds(d, false); }
#endif

void alloc_debug_stats(const alloc_debug *d, alloc_stats *out) { *out = d->stats; }
