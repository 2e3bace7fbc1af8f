/*
 * reader.c: the trace reader (alloc_trace_parse, alloc/record.h).
 *
 * Three passes over a trace held in memory:
 *   1. the header, then every region: a chunk (its events are counted from its
 *      header, so the event array is allocated once) or the end record;
 *   2. every chunk's events decoded into that array, each with its sequence
 *      number, thread, time and file offset; a block is still named by its id
 *      (the sequence number that allocated it);
 *   3. the events put in sequence order (already so for one thread; chunks of
 *      several threads are sorted, O(n log n)), then replayed in a table from
 *      id to a dense block number, which gives every free and realloc its
 *      block's size and finds blocks freed twice.
 * Every read is bounds-checked against the input, and every failure names the
 * offset and what was expected there: the input is untrusted (the fuzz target
 * fuzz_record_reader feeds it arbitrary bytes).
 *
 * Memory: one alloc_trace_event (48 bytes) per event, plus a transient table
 * of 16 bytes per block and 12 per allocation event, all through the caller's
 * allocator.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/record.h"
#include "format.h"

typedef struct cursor {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t end; /* reads stop here */
    alloc_trace_error *err;
} cursor;

static int fail(alloc_trace_error *err, uint64_t offset, const char *fmt, ...)
{
    if (err) {
        err->offset = offset;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int get_varint(cursor *c, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = c->pos;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (c->pos >= c->end)
            return fail(c->err, start, "truncated varint (the region ends at offset %zu)", c->end);
        uint8_t b = c->data[c->pos++];
        if (shift == 63 && b > 1) return fail(c->err, start, "varint larger than 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return fail(c->err, start, "varint longer than 10 bytes");
}

static int get_string(cursor *c, char *out, size_t cap, const char *what)
{
    uint64_t n = 0;
    int e = get_varint(c, &n);
    if (e) return e;
    if (n >= cap || n > c->end - c->pos)
        return fail(c->err, c->pos, "%s of %llu bytes (at most %zu, and within the header)", what,
                    (unsigned long long)n, cap - 1);
    memcpy(out, c->data + c->pos, (size_t)n);
    out[n] = '\0';
    c->pos += (size_t)n;
    return 0;
}

static void *get_mem(allocator a, size_t n, size_t size)
{
    if (n == 0) n = 1;
    if (n > ALLOC_MAX_LEN / size) return NULL;
    return a.vtable->alloc(a.ctx, n * size, 16, 0);
}

static void put_mem(allocator a, void *p, size_t n, size_t size)
{
    if (p) a.vtable->free(a.ctx, p, (n ? n : 1) * size, 16, 0);
}

const char *alloc_trace_op_name(unsigned op)
{
    static const char *const names[] = {"malloc", "calloc", "aligned", "free",
                                        "realloc", "resize", "fail",    "free-unknown"};
    return op < 8 ? names[op] : "?";
}

/* Pass 2 for one chunk: decodes its events into ev[*n ..]. */
static int decode_chunk(const uint8_t *data, size_t off, size_t used, uint32_t events, uint32_t thread,
                        uint64_t first_seq, uint64_t first_time, alloc_trace_event *ev, size_t *n,
                        alloc_trace_error *err)
{
    cursor c = {data, 0, off + TRACE_CHUNK_HEADER, off + TRACE_CHUNK_HEADER + used, err};
    uint64_t seq = first_seq - 1, time = first_time, gap = 0;
    uint32_t seen = 0;
    while (c.pos < c.end) {
        size_t at = c.pos;
        uint8_t lead = data[c.pos++];
        unsigned op = lead & 7u;
        uint64_t v = lead >> 3;
        int e;
        if (v == 31) {
            uint64_t more = 0;
            if ((e = get_varint(&c, &more))) return e;
            if (more > UINT64_MAX - 31) return fail(err, at, "event value overflows");
            v = 31 + more;
        }
        if (op == TOP_EXT && v == TEXT_TIME) {
            uint64_t d = 0;
            if ((e = get_varint(&c, &d))) return e;
            time += d;
            continue;
        }
        if (op == TOP_EXT && v == TEXT_GAP) {
            uint64_t d = 0;
            if ((e = get_varint(&c, &d))) return e;
            if (d > UINT64_MAX / 2 || gap > UINT64_MAX / 2) return fail(err, at, "sequence gap too large");
            gap += d;
            continue;
        }
        if (seen == events)
            return fail(err, at, "chunk at offset %zu holds more events than its header's %u", off, events);
        if (seq > UINT64_MAX - 1 - gap) return fail(err, at, "sequence number overflows");
        seq += 1 + gap;
        gap = 0;
        alloc_trace_event *x = &ev[*n];
        memset(x, 0, sizeof *x);
        x->seq = seq;
        x->time_ns = time;
        x->offset = at;
        x->thread = thread;
        x->block = UINT32_MAX;
        switch (op) {
        case TOP_MALLOC:
        case TOP_CALLOC:
            x->op = op == TOP_MALLOC ? ALLOC_TRACE_MALLOC : ALLOC_TRACE_CALLOC;
            x->size = v;
            break;
        case TOP_ALIGNED:
            x->op = ALLOC_TRACE_ALIGNED;
            x->size = v;
            if (c.pos >= c.end) return fail(err, at, "truncated aligned event: expected the alignment byte");
            x->align_log2 = data[c.pos++];
            if (x->align_log2 == 0 || x->align_log2 > 40)
                return fail(err, at, "alignment 2^%u out of range (expected 2^1 .. 2^40)", x->align_log2);
            break;
        case TOP_FREE:
        case TOP_REALLOC:
        case TOP_RESIZE:
            if (v == 0 || v >= seq)
                return fail(err, at, "event %llu refers %llu events back (expected 1 .. %llu)",
                            (unsigned long long)seq, (unsigned long long)v, (unsigned long long)(seq - 1));
            x->old_size = seq - v; /* the block's id until pass 3 */
            x->op = op == TOP_FREE ? ALLOC_TRACE_FREE : op == TOP_REALLOC ? ALLOC_TRACE_REALLOC : ALLOC_TRACE_RESIZE;
            if (op != TOP_FREE && (e = get_varint(&c, &x->size))) return e;
            break;
        case TOP_EXT:
            if (v == TEXT_FAIL) {
                x->op = ALLOC_TRACE_FAIL;
                if ((e = get_varint(&c, &x->size))) return e;
            } else if (v == TEXT_FREE_UNKNOWN) {
                x->op = ALLOC_TRACE_FREE_UNKNOWN;
            } else {
                return fail(err, at, "unknown extended event %llu (expected 0 .. 3)", (unsigned long long)v);
            }
            break;
        default:
            return fail(err, at, "unknown event op 7 (lead byte 0x%02x)", lead);
        }
        (*n)++;
        seen++;
    }
    if (seen != events)
        return fail(err, off + TRACE_CHUNK_HEADER + used, "chunk at offset %zu holds %u events, its header says %u",
                    off, seen, events);
    return 0;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const alloc_trace_event *)a)->seq, y = ((const alloc_trace_event *)b)->seq;
    return x < y ? -1 : x > y;
}

typedef struct id_slot {
    uint64_t id; /* 0 = empty */
    uint32_t block;
} id_slot;

static uint64_t mix(uint64_t x)
{
    x *= 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 31);
}

static id_slot *id_find(id_slot *t, size_t mask, uint64_t id)
{
    size_t j = (size_t)mix(id) & mask;
    while (t[j].id && t[j].id != id) j = (j + 1) & mask;
    return &t[j];
}

/* Pass 3: dense blocks and sizes. */
static int assign_blocks(alloc_trace *t, alloc_trace_error *err)
{
    size_t news = 0;
    for (size_t i = 0; i < t->count; i++) {
        uint8_t op = t->events[i].op;
        if (op <= ALLOC_TRACE_ALIGNED || op == ALLOC_TRACE_REALLOC) news++;
    }
    size_t cap = 16;
    while (cap < 2 * news + 16) cap *= 2;
    allocator a = t->a;
    id_slot *table = (id_slot *)get_mem(a, cap, sizeof(id_slot));
    uint64_t *size = (uint64_t *)get_mem(a, news, sizeof(uint64_t));
    uint8_t *state = (uint8_t *)get_mem(a, news, 1); /* bit 0 live, bits 1..7 align */
    int rc = 0;
    if (!table || !size || !state) {
        rc = -ENOMEM;
        goto out;
    }
    memset(table, 0, cap * sizeof(id_slot));
    uint32_t blocks = 0;
    for (size_t i = 0; i < t->count; i++) {
        alloc_trace_event *x = &t->events[i];
        if (x->thread >= t->threads) t->threads = x->thread + 1;
        switch (x->op) {
        case ALLOC_TRACE_MALLOC:
        case ALLOC_TRACE_CALLOC:
        case ALLOC_TRACE_ALIGNED: {
            id_slot *s = id_find(table, cap - 1, x->seq);
            s->id = x->seq;
            s->block = blocks;
            size[blocks] = x->size;
            state[blocks] = (uint8_t)(1u | (unsigned)x->align_log2 << 1);
            x->block = blocks++;
            break;
        }
        case ALLOC_TRACE_FREE:
        case ALLOC_TRACE_REALLOC:
        case ALLOC_TRACE_RESIZE: {
            uint64_t id = x->old_size;
            id_slot *s = id_find(table, cap - 1, id);
            if (!s->id) {
                /* A block from before this file (a fork child's inheritance). */
                if (x->op == ALLOC_TRACE_FREE) {
                    x->op = ALLOC_TRACE_FREE_UNKNOWN;
                    x->old_size = 0;
                    break;
                }
                if (x->op == ALLOC_TRACE_RESIZE) {
                    rc = fail(err, x->offset, "resize of the block allocated at event %llu, which this trace never allocated",
                              (unsigned long long)id);
                    goto out;
                }
                s->id = id;
                s->block = blocks;
                size[blocks] = x->size;
                state[blocks] = 1;
                x->op = ALLOC_TRACE_MALLOC;
                x->old_size = 0;
                x->block = blocks++;
                break;
            }
            uint32_t b = s->block;
            if (!(state[b] & 1)) {
                rc = fail(err, x->offset, "%s of block %llu (allocated at event %llu), which was already freed",
                          alloc_trace_op_name(x->op), (unsigned long long)b, (unsigned long long)id);
                goto out;
            }
            x->block = b;
            x->align_log2 = (uint8_t)(state[b] >> 1);
            x->old_size = size[b];
            if (x->op == ALLOC_TRACE_FREE) {
                x->size = size[b];
                state[b] &= (uint8_t)~1u;
            } else {
                size[b] = x->size;
            }
            break;
        }
        default:
            break;
        }
    }
    t->blocks = blocks;
out:
    put_mem(a, table, cap, sizeof(id_slot));
    put_mem(a, size, news, sizeof(uint64_t));
    put_mem(a, state, news, 1);
    return rc;
}

int alloc_trace_parse(alloc_trace *t, const void *data_, size_t len, allocator a, alloc_trace_error *err)
{
    const uint8_t *data = (const uint8_t *)data_;
    memset(t, 0, sizeof *t);
    t->a = a;
    if (err) {
        err->offset = 0;
        err->message[0] = '\0';
    }
    if (len < 16 || memcmp(data, TRACE_MAGIC, 8) != 0)
        return fail(err, 0, "not an alloc trace: expected the magic \"ALCTRACE\" and 16 header bytes");
    t->version = trace_get_u32(data + 8);
    if (t->version != ALLOC_TRACE_VERSION) {
        fail(err, 8, "trace format version %u; this reader reads version %u", t->version, ALLOC_TRACE_VERSION);
        return -EPROTONOSUPPORT;
    }
    size_t region = trace_get_u32(data + 12);
    if (region < 512 || (region & (region - 1)) || region > (1u << 20))
        return fail(err, 12, "header region of %zu bytes (expected a power of two, 512 B .. 1 MiB)", region);
    if (region > len) return fail(err, 12, "truncated: the header region needs %zu bytes, the file has %zu", region, len);
    cursor c = {data, len, 16, region, err};
    uint64_t pid = 0, source = 0;
    int e;
    if ((e = get_varint(&c, &t->page_size)) || (e = get_varint(&c, &pid)) || (e = get_varint(&c, &source)) ||
        (e = get_varint(&c, &t->start_realtime_ns)))
        return e;
    if (source != ALLOC_RECORD_MALLOC && source != ALLOC_RECORD_HANDLE)
        return fail(err, 16, "unknown source %llu (expected 1 malloc or 2 handle)", (unsigned long long)source);
    t->pid = (int64_t)pid;
    t->source = (uint32_t)source;
    if ((e = get_string(&c, t->program, sizeof t->program, "program name")) ||
        (e = get_string(&c, t->strategy, sizeof t->strategy, "strategy name")))
        return e;
    t->file_bytes = len;

    /* Pass 1: regions. */
    size_t total = 0;
    for (size_t off = region; off < len;) {
        if (len - off < 8) return fail(err, off, "truncated: expected a chunk or end record, %zu bytes left", len - off);
        uint32_t magic = trace_get_u32(data + off), cap = trace_get_u32(data + off + 4);
        if (magic == 0 && cap == 0) { /* a chunk reserved but never started: the writer died */
            off += region;
            continue;
        }
        if (magic != TRACE_CHUNK_MAGIC && magic != TRACE_END_MAGIC)
            return fail(err, off, "expected a chunk (\"CHNK\") or the end record (\"ENDT\"), found 0x%08x", magic);
        if (cap < region || cap % region || cap > (1u << 30))
            return fail(err, off + 4, "region capacity %u (expected a multiple of %zu, at most 1 GiB)", cap, region);
        if (cap > len - off)
            return fail(err, off, "truncated: the region here claims %u bytes, the file ends %zu bytes on", cap, len - off);
        if (magic == TRACE_END_MAGIC) {
            uint64_t events = trace_get_u64(data + off + 8);
            t->dropped = trace_get_u64(data + off + 24);
            t->complete = true;
            (void)events;
        } else {
            uint32_t used = trace_get_u32(data + off + 8), events = trace_get_u32(data + off + 12);
            if (used > cap - TRACE_CHUNK_HEADER)
                return fail(err, off + 8, "chunk uses %u bytes of a %u-byte capacity", used, cap);
            if (events > used) return fail(err, off + 12, "chunk claims %u events in %u bytes", events, used);
            if (trace_get_u64(data + off + 24) == 0) return fail(err, off + 24, "chunk's first sequence number is 0");
            total += events;
            t->payload_bytes += used;
        }
        off += cap;
    }

    /* Pass 2: events. */
    t->events = (alloc_trace_event *)get_mem(a, total, sizeof(alloc_trace_event));
    if (!t->events) return -ENOMEM;
    size_t n = 0;
    int rc = 0;
    for (size_t off = region; off < len && rc == 0;) {
        uint32_t magic = trace_get_u32(data + off), cap = trace_get_u32(data + off + 4);
        if (magic == 0 && cap == 0) {
            off += region;
            continue;
        }
        if (magic == TRACE_CHUNK_MAGIC)
            rc = decode_chunk(data, off, trace_get_u32(data + off + 8), trace_get_u32(data + off + 12),
                              trace_get_u32(data + off + 16), trace_get_u64(data + off + 24),
                              trace_get_u64(data + off + 32), t->events, &n, err);
        off += cap;
    }
    t->count = n;
    if (rc == 0) {
        bool sorted = true;
        for (size_t i = 1; i < n && sorted; i++) sorted = t->events[i - 1].seq < t->events[i].seq;
        if (!sorted) {
            qsort(t->events, n, sizeof *t->events, by_seq);
            for (size_t i = 1; i < n && rc == 0; i++)
                if (t->events[i - 1].seq == t->events[i].seq)
                    rc = fail(err, t->events[i].offset, "sequence number %llu appears twice (also at offset %llu)",
                              (unsigned long long)t->events[i].seq, (unsigned long long)t->events[i - 1].offset);
        }
    }
    if (rc == 0) rc = assign_blocks(t, err);
    if (rc != 0) {
        put_mem(a, t->events, total, sizeof(alloc_trace_event));
        t->events = NULL;
        t->count = 0;
        return rc;
    }
    t->count = total; /* == n: every chunk's count was checked */
    return 0;
}

void alloc_trace_free(alloc_trace *t)
{
    if (t->events) put_mem(t->a, t->events, t->count, sizeof(alloc_trace_event));
    t->events = NULL;
    t->count = 0;
}
