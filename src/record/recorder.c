/*
 * recorder.c: the trace writer (alloc/record.h, format in format.h).
 *
 * The recorder has to live inside malloc, so it may not call malloc, may not
 * block for long, and must survive a thread exit, a fork and an _exit. Its
 * design follows from that.
 *
 * Storage. Every thread that records gets a slot in the recorder (a fixed
 * array of 1024, in memory mapped from the OS) and, in it, a chunk: 64 KiB of
 * the trace file itself, reserved by growing the file (ftruncate) and mapped
 * shared. An event is encoded straight into the chunk and the chunk's header
 * (bytes used, events) is updated after it, so the file's page cache holds
 * every complete event at every moment: a thread that exits, a process that
 * calls _exit or exec or dies by a signal loses nothing it had recorded.
 * Reserving a chunk is the only shared step (a spin lock around ftruncate and
 * mmap, once per 64 KiB of events); a full chunk is sealed and unmapped.
 * The cost is slack: a thread's last chunk is only partly used, so a trace
 * file is up to 64 KiB per recording thread larger than its events.
 *
 * Order and identity. One process-wide counter (an atomic increment per event)
 * numbers the events; the reader merges the threads' chunks by these numbers
 * into the order in which the calls returned. A block is named by the number
 * of the event that allocated it, not by its address, and a free stores the
 * distance back to it (its age in events): usually one or two bytes.
 *
 * Addresses to ids. A hash table of 64 stripes, each a linear-probing table
 * with its own spin lock and its own mapped array that doubles at half load
 * (deletion by backward shift, Knuth 6.4 algorithm R). A free is recorded
 * before the real free (after it, another thread may already have been given
 * the address); an allocation after the real one. realloc is recorded after
 * the call, so its old address may already be someone else's: inserting
 * overwrites, and removing an address removes it only if it still carries the
 * id the caller expects.
 *
 * Threads. A thread-local cache of four (recorder, slot) pairs finds the
 * calling thread's slot without a lock. A pthread key destructor (armed on a
 * thread's first event) seals the thread's chunks at thread exit; a registry
 * of live recorders lets it tell a recorder that was closed meanwhile.
 *
 * Fork. The prepare handler takes every lock of every recorder, so the child
 * inherits consistent tables. In the child the global recorder starts a new
 * file "<path>.<pid>" (the parent's chunks stay the parent's), and every other
 * recorder stops recording (its chunks are the parent's file).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc/os.h"
#include "alloc/record.h"
#include "format.h"
#include "../core/internal.h"
#include "../core/spin.h"
#include "../os/host.h"

#define MAX_RECORDERS 16
#define MAX_THREADS 1024
#define STRIPES 64
#define STRIPE_INITIAL 256
#define CHUNK_BYTES ((size_t)64 << 10)
#define TLS_SLOTS 4
#define PATH_MAX_LEN 1024

typedef struct entry {
    uintptr_t key; /* 0 = empty */
    uint64_t id;
} entry;

typedef struct stripe {
    atomic_int lock;
    entry *slots;
    size_t cap; /* power of two, or 0 before the first insert */
    size_t count;
} stripe;

typedef struct thread_state {
    atomic_int in_use;
    uint32_t thread;
    uint8_t *chunk; /* mapped chunk, or NULL */
    size_t used;    /* payload bytes in the chunk */
    uint32_t events;
    uint64_t last_seq;
    uint64_t last_time;
    uint32_t since_stamp;
} thread_state;

struct alloc_recorder {
    uint64_t gen;
    int fd;
    uint64_t file_id; /* what alloc_host_file_identity(fd) must say (see usable_fd) */
    atomic_int err;
    atomic_bool disabled; /* in a fork child, for every recorder but the global one */
    uint32_t source;
    size_t page;
    size_t chunk_bytes;
    uint64_t start_mono;
    atomic_uint_fast64_t seq;
    atomic_uint_fast64_t unknown_frees;
    atomic_uint_fast64_t dropped;
    atomic_uint next_thread;
    atomic_int claim_lock;
    uint64_t file_end;
    size_t map_bytes;
    char base[PATH_MAX_LEN]; /* the path asked for */
    char path[PATH_MAX_LEN]; /* the file written: base, or base.<pid> */
    char program[256];
    stripe stripes[STRIPES];
    thread_state threads[MAX_THREADS];
};

_Atomic bool alloc_record_on;

/* --- locks ---------------------------------------------------------------- */

static void spin_lock(atomic_int *l) { (void)alloc_spin_lock(l); }

static void spin_unlock(atomic_int *l) { alloc_spin_unlock(l); }

/* --- the registry of live recorders ----------------------------------------- */

static struct {
    alloc_recorder *r;
    uint64_t gen;
} registry[MAX_RECORDERS];
static atomic_int registry_lock;
static uint64_t next_gen = 1;
static alloc_recorder *global_rec;
static atomic_bool hooks_installed;

static void set_err(alloc_recorder *r, int e)
{
    int zero = 0;
    atomic_compare_exchange_strong(&r->err, &zero, e);
}

/* --- the address table ------------------------------------------------------- */

static uint64_t hash_addr(uintptr_t a)
{
    uint64_t h = (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static stripe *stripe_of(alloc_recorder *r, uint64_t h) { return &r->stripes[h >> 58]; }

static bool stripe_grow(stripe *s)
{
    size_t cap = s->cap ? s->cap * 2 : STRIPE_INITIAL;
    void *mem;
    if (alloc_os_map(cap * sizeof(entry), 1, &mem) != 0) return false;
    entry *slots = (entry *)mem;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].key) continue;
        size_t j = (size_t)hash_addr(s->slots[i].key) & (cap - 1);
        while (slots[j].key) j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    if (s->slots) alloc_os_unmap(s->slots, s->cap * sizeof(entry));
    s->slots = slots;
    s->cap = cap;
    return true;
}

/* Maps key to id, replacing a stale mapping of the same address. */
static bool table_put(alloc_recorder *r, uintptr_t key, uint64_t id)
{
    uint64_t h = hash_addr(key);
    stripe *s = stripe_of(r, h);
    bool ok = true;
    spin_lock(&s->lock);
    if ((s->count + 1) * 2 > s->cap && !stripe_grow(s)) {
        ok = false;
    } else {
        size_t j = (size_t)h & (s->cap - 1);
        while (s->slots[j].key && s->slots[j].key != key) j = (j + 1) & (s->cap - 1);
        if (!s->slots[j].key) s->count++;
        s->slots[j].key = key;
        s->slots[j].id = id;
    }
    spin_unlock(&s->lock);
    return ok;
}

/* Removes key (only if it maps to expect, unless expect is 0) and returns the
 * id it had, or 0 if it was absent. */
static uint64_t table_take(alloc_recorder *r, uintptr_t key, uint64_t expect)
{
    uint64_t h = hash_addr(key);
    stripe *s = stripe_of(r, h);
    uint64_t id = 0;
    spin_lock(&s->lock);
    if (s->cap) {
        size_t mask = s->cap - 1, j = (size_t)h & mask;
        while (s->slots[j].key && s->slots[j].key != key) j = (j + 1) & mask;
        if (s->slots[j].key == key && (expect == 0 || s->slots[j].id == expect)) {
            id = s->slots[j].id;
            /* Backward-shift deletion: pull later entries of the run into the
             * hole when their home slot is not between the hole and them. */
            size_t hole = j, k = j;
            for (;;) {
                k = (k + 1) & mask;
                if (!s->slots[k].key) break;
                size_t home = (size_t)hash_addr(s->slots[k].key) & mask;
                bool between = hole <= k ? (hole < home && home <= k) : (hole < home || home <= k);
                if (between) continue;
                s->slots[hole] = s->slots[k];
                hole = k;
            }
            s->slots[hole].key = 0;
            s->count--;
        }
    }
    spin_unlock(&s->lock);
    return id;
}

static uint64_t table_get(alloc_recorder *r, uintptr_t key)
{
    uint64_t h = hash_addr(key);
    stripe *s = stripe_of(r, h);
    uint64_t id = 0;
    spin_lock(&s->lock);
    if (s->cap) {
        size_t mask = s->cap - 1, j = (size_t)h & mask;
        while (s->slots[j].key && s->slots[j].key != key) j = (j + 1) & mask;
        if (s->slots[j].key == key) id = s->slots[j].id;
    }
    spin_unlock(&s->lock);
    return id;
}

/* --- the file ----------------------------------------------------------------- */

static size_t put_string(uint8_t *p, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) n = max;
    size_t k = trace_put_varint(p, n);
    memcpy(p + k, s, n);
    return k + n;
}

/* r->path = "<base>.<pid>". */
static void path_with_pid(alloc_recorder *r)
{
    size_t len = strlen(r->base);
    memcpy(r->path, r->base, len);
    char digits[24];
    size_t nd = 0;
    for (unsigned pid = (unsigned)alloc_host_pid(); pid; pid /= 10) digits[nd++] = (char)('0' + pid % 10);
    r->path[len++] = '.';
    while (nd) r->path[len++] = digits[--nd];
    r->path[len] = '\0';
}

/* Creates the trace file and writes the header region. exclusive: r->base
 * if it does not exist yet, else "<base>.<pid>" (a program that a recorded
 * program runs inherits ALLOC_TRACE, and must not overwrite its parent's
 * file, which the parent still has mapped); otherwise r->path, truncated.
 * 0 or -errno. */
static int write_header(alloc_recorder *r, bool exclusive)
{
    int fd;
    if (exclusive) {
        memcpy(r->path, r->base, strlen(r->base) + 1);
        fd = alloc_host_file_create(r->path, true);
        if (fd == -EEXIST) {
            path_with_pid(r);
            fd = alloc_host_file_create(r->path, false);
        }
    } else {
        fd = alloc_host_file_create(r->path, false);
    }
    if (fd < 0) return fd;
    uint8_t h[512];
    memset(h, 0, sizeof h);
    memcpy(h, TRACE_MAGIC, 8);
    trace_put_u32(h + 8, ALLOC_TRACE_VERSION);
    trace_put_u32(h + 12, (uint32_t)r->page);
    size_t n = 16;
    n += trace_put_varint(h + n, r->page);
    n += trace_put_varint(h + n, (uint64_t)alloc_host_pid());
    n += trace_put_varint(h + n, r->source);
    n += trace_put_varint(h + n, alloc_host_realtime_ns());
    n += put_string(h + n, r->program, 255);
    const char *strategy = r->source == ALLOC_RECORD_MALLOC ? alloc_host_getenv("ALLOC_STRATEGY") : NULL;
    n += put_string(h + n, strategy ? strategy : "", 63);
    int e = alloc_host_file_resize(fd, r->page);
    if (e == 0) e = alloc_host_file_write_at(fd, 0, h, n);
    if (e != 0) {
        alloc_host_file_close(fd);
        return e;
    }
    r->fd = fd;
    r->file_id = alloc_host_file_identity(fd);
    r->file_end = r->page;
    r->start_mono = alloc_host_monotonic_ns();
    return 0;
}

static void seal(thread_state *ts, size_t chunk_bytes)
{
    if (!ts->chunk) return;
    trace_put_u32(ts->chunk + 20, 1);
    alloc_os_unmap(ts->chunk, chunk_bytes);
    ts->chunk = NULL;
}

/* r->fd, checked first (under claim_lock): the program may have closed it
 * (daemons close every descriptor) and opened another file under the same
 * number. Growing someone else's file would damage it, so a descriptor that
 * is not the trace any more is abandoned (not closed: it is the program's)
 * and the trace reopened by its absolute path. -errno if that fails. */
static int usable_fd(alloc_recorder *r)
{
    if (alloc_host_file_identity(r->fd) == r->file_id) return 0;
    int fd = alloc_host_file_reopen(r->path);
    if (fd < 0) return fd;
    if (alloc_host_file_identity(fd) != r->file_id) {
        alloc_host_file_close(fd);
        return -ESTALE; /* the trace was replaced or removed */
    }
    r->fd = fd;
    return 0;
}

/* Closes r->fd if it is still the trace's (else it is the program's now). */
static void release_fd(alloc_recorder *r)
{
    if (alloc_host_file_identity(r->fd) == r->file_id) alloc_host_file_close(r->fd);
}

/* A fresh chunk for ts whose first event will be seq. */
static bool claim_chunk(alloc_recorder *r, thread_state *ts, uint64_t seq)
{
    seal(ts, r->chunk_bytes);
    spin_lock(&r->claim_lock);
    uint64_t off = r->file_end;
    void *mem = NULL;
    int e = usable_fd(r);
    if (e == 0) e = alloc_host_file_resize(r->fd, off + r->chunk_bytes);
    if (e == 0) e = alloc_host_file_map(r->fd, off, r->chunk_bytes, &mem);
    if (e == 0) r->file_end = off + r->chunk_bytes;
    spin_unlock(&r->claim_lock);
    if (e != 0) {
        set_err(r, e);
        return false;
    }
    uint8_t *c = (uint8_t *)mem;
    uint64_t now = alloc_host_monotonic_ns() - r->start_mono;
    trace_put_u32(c + 4, (uint32_t)r->chunk_bytes);
    trace_put_u32(c + 16, ts->thread);
    trace_put_u64(c + 24, seq);
    trace_put_u64(c + 32, now);
    trace_put_u32(c, TRACE_CHUNK_MAGIC); /* last: the header is whole once the magic is there */
    ts->chunk = c;
    ts->used = 0;
    ts->events = 0;
    ts->last_seq = seq - 1;
    ts->last_time = now;
    ts->since_stamp = 0;
    return true;
}

/* --- per-thread slots ----------------------------------------------------------- */

typedef struct tls_slot {
    alloc_recorder *r;
    uint64_t gen;
    thread_state *ts;
} tls_slot;

static __thread __attribute__((tls_model("initial-exec"))) tls_slot tls[TLS_SLOTS];

static bool alive_locked(alloc_recorder *r, uint64_t gen)
{
    for (int i = 0; i < MAX_RECORDERS; i++)
        if (registry[i].r == r && registry[i].gen == gen) return true;
    return false;
}

static void retire(alloc_recorder *r, thread_state *ts)
{
    seal(ts, r->chunk_bytes);
    atomic_store_explicit(&ts->in_use, 0, memory_order_release);
}

/* Releases tls[i] (sealing its chunk if its recorder is still open). */
static void drop_tls(int i)
{
    if (!tls[i].r) return;
    spin_lock(&registry_lock);
    if (alive_locked(tls[i].r, tls[i].gen)) retire(tls[i].r, tls[i].ts);
    spin_unlock(&registry_lock);
    tls[i].r = NULL;
}

static void on_thread_exit(void *value)
{
    (void)value;
    for (int i = 0; i < TLS_SLOTS; i++) drop_tls(i);
}

static thread_state *state_of(alloc_recorder *r)
{
    for (int i = 0; i < TLS_SLOTS; i++)
        if (tls[i].r == r && tls[i].gen == r->gen) return tls[i].ts;
    if (atomic_load_explicit(&r->disabled, memory_order_relaxed)) return NULL;
    int free_i = TLS_SLOTS - 1;
    for (int i = 0; i < TLS_SLOTS; i++)
        if (!tls[i].r) {
            free_i = i;
            break;
        }
    drop_tls(free_i);
    for (size_t k = 0; k < MAX_THREADS; k++) {
        int zero = 0;
        thread_state *ts = &r->threads[k];
        if (atomic_load_explicit(&ts->in_use, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&ts->in_use, &zero, 1)) {
            ts->thread = atomic_fetch_add(&r->next_thread, 1);
            ts->chunk = NULL;
            tls[free_i] = (tls_slot){r, r->gen, ts};
            alloc_host_thread_exit_arm((void *)1);
            return ts;
        }
    }
    return NULL;
}

/* --- events ----------------------------------------------------------------------- */

/* Appends one encoded event (ev, n bytes) with sequence number seq. */
static void append(alloc_recorder *r, thread_state *ts, uint64_t seq, const uint8_t *ev, size_t n)
{
    if (!ts->chunk || ts->used + n + 2 * 11 > r->chunk_bytes - TRACE_CHUNK_HEADER) {
        if (!claim_chunk(r, ts, seq)) {
            atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
            return;
        }
    }
    uint8_t *p = ts->chunk + TRACE_CHUNK_HEADER + ts->used;
    size_t k = 0;
    if (++ts->since_stamp >= TRACE_TIME_EVERY) {
        uint64_t now = alloc_host_monotonic_ns() - r->start_mono;
        p[k++] = (uint8_t)(TOP_EXT | TEXT_TIME << 3);
        k += trace_put_varint(p + k, now >= ts->last_time ? now - ts->last_time : 0);
        ts->last_time = now;
        ts->since_stamp = 0;
    }
    uint64_t gap = seq - ts->last_seq - 1;
    if (gap) {
        p[k++] = (uint8_t)(TOP_EXT | TEXT_GAP << 3);
        k += trace_put_varint(p + k, gap);
    }
    memcpy(p + k, ev, n);
    ts->used += k + n;
    ts->events++;
    ts->last_seq = seq;
    /* Publish: the header now covers the whole event. */
    trace_put_u32(ts->chunk + 12, ts->events);
    trace_put_u32(ts->chunk + 8, (uint32_t)ts->used);
}

static uint64_t next_seq(alloc_recorder *r)
{
    return (uint64_t)atomic_fetch_add_explicit(&r->seq, 1, memory_order_relaxed);
}

static unsigned log2_of(size_t align)
{
    unsigned l = 0;
    while (align > 1) {
        align >>= 1;
        l++;
    }
    return l;
}

static void record_new(alloc_recorder *r, thread_state *ts, const void *p, size_t size, size_t align,
                       enum alloc_record_kind kind)
{
    uint8_t ev[TRACE_EVENT_MAX];
    size_t n;
    uint64_t seq = next_seq(r);
    if (!p) {
        ev[0] = (uint8_t)(TOP_EXT | TEXT_FAIL << 3);
        n = 1 + trace_put_varint(ev + 1, size);
        append(r, ts, seq, ev, n);
        return;
    }
    if (!table_put(r, (uintptr_t)p, seq)) {
        set_err(r, -ENOMEM);
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    if (kind == ALLOC_RECORD_KIND_ALIGNED && align > 1) {
        n = trace_put_lead(ev, TOP_ALIGNED, size);
        ev[n++] = (uint8_t)log2_of(align);
    } else {
        n = trace_put_lead(ev, kind == ALLOC_RECORD_KIND_CALLOC ? TOP_CALLOC : TOP_MALLOC, size);
    }
    append(r, ts, seq, ev, n);
}

void alloc_record_alloc(alloc_recorder *r, const void *p, size_t size, size_t align, enum alloc_record_kind kind)
{
    thread_state *ts = state_of(r);
    if (!ts) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    record_new(r, ts, p, size, align, kind);
}

void alloc_record_free(alloc_recorder *r, const void *p)
{
    if (!p) return;
    thread_state *ts = state_of(r);
    if (!ts) {
        table_take(r, (uintptr_t)p, 0);
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    uint64_t id = table_take(r, (uintptr_t)p, 0);
    uint64_t seq = next_seq(r);
    uint8_t ev[TRACE_EVENT_MAX];
    size_t n;
    if (id == 0) {
        atomic_fetch_add_explicit(&r->unknown_frees, 1, memory_order_relaxed);
        ev[0] = (uint8_t)(TOP_EXT | TEXT_FREE_UNKNOWN << 3);
        n = 1;
    } else {
        n = trace_put_lead(ev, TOP_FREE, seq - id);
    }
    append(r, ts, seq, ev, n);
}

static void record_change(alloc_recorder *r, const void *old, const void *p, size_t new_size, unsigned op)
{
    thread_state *ts = state_of(r);
    if (!ts) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    if (!p) {
        record_new(r, ts, NULL, new_size, 0, ALLOC_RECORD_KIND_MALLOC);
        return;
    }
    uint64_t id = p == old ? table_get(r, (uintptr_t)old) : table_take(r, (uintptr_t)old, 0);
    if (id == 0) {
        /* A block from before the recording: from here on it is a new one. */
        atomic_fetch_add_explicit(&r->unknown_frees, 1, memory_order_relaxed);
        record_new(r, ts, p, new_size, 0, ALLOC_RECORD_KIND_MALLOC);
        return;
    }
    uint64_t seq = next_seq(r);
    if (p != old && !table_put(r, (uintptr_t)p, id)) {
        set_err(r, -ENOMEM);
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    uint8_t ev[TRACE_EVENT_MAX];
    size_t n = trace_put_lead(ev, op, seq - id);
    n += trace_put_varint(ev + n, new_size);
    append(r, ts, seq, ev, n);
}

void alloc_record_realloc(alloc_recorder *r, const void *old, const void *p, size_t new_size)
{
    record_change(r, old, p, new_size, TOP_REALLOC);
}

void alloc_record_resize(alloc_recorder *r, const void *p, size_t new_size)
{
    record_change(r, p, p, new_size, TOP_RESIZE);
}

void alloc_recorder_thread_done(alloc_recorder *r)
{
    for (int i = 0; i < TLS_SLOTS; i++)
        if (tls[i].r == r && tls[i].gen == r->gen) drop_tls(i);
}

/* --- open, close, fork ------------------------------------------------------------- */

static void fork_prepare(void)
{
    spin_lock(&registry_lock);
    for (int i = 0; i < MAX_RECORDERS; i++) {
        alloc_recorder *r = registry[i].r;
        if (!r) continue;
        spin_lock(&r->claim_lock);
        for (int s = 0; s < STRIPES; s++) spin_lock(&r->stripes[s].lock);
    }
}

static void unlock_all(void)
{
    for (int i = 0; i < MAX_RECORDERS; i++) {
        alloc_recorder *r = registry[i].r;
        if (!r) continue;
        for (int s = 0; s < STRIPES; s++) spin_unlock(&r->stripes[s].lock);
        spin_unlock(&r->claim_lock);
    }
}

static void fork_parent(void)
{
    unlock_all();
    spin_unlock(&registry_lock);
}

static void fork_child(void)
{
    unlock_all();
    /* Only this thread exists now: its cached slots point into the parent's
     * chunks, which are the parent's to finish. */
    for (int i = 0; i < TLS_SLOTS; i++) tls[i].r = NULL;
    for (int i = 0; i < MAX_RECORDERS; i++) {
        alloc_recorder *r = registry[i].r;
        if (!r) continue;
        for (size_t k = 0; k < MAX_THREADS; k++) {
            thread_state *ts = &r->threads[k];
            if (ts->chunk) alloc_os_unmap(ts->chunk, r->chunk_bytes);
            ts->chunk = NULL;
            atomic_store(&ts->in_use, 0);
        }
        if (r != global_rec) {
            atomic_store(&r->disabled, true);
            continue;
        }
        /* "<base>.<pid>": the child's own trace. */
        release_fd(r);
        path_with_pid(r);
        r->next_thread = 0;
        if (write_header(r, false) != 0) {
            atomic_store(&r->disabled, true);
            atomic_store_explicit(&alloc_record_on, false, memory_order_release);
        }
    }
    spin_unlock(&registry_lock);
}

static int install_hooks(void)
{
    if (atomic_exchange(&hooks_installed, true)) return 0;
    int e = alloc_host_thread_exit_hook(on_thread_exit);
    if (e == 0) e = alloc_host_atfork(fork_prepare, fork_parent, fork_child);
    return e;
}

static int open_recorder(alloc_recorder **out, const char *path, const char *program,
                         enum alloc_record_source source, bool global)
{
    if (!out || !path || (source != ALLOC_RECORD_MALLOC && source != ALLOC_RECORD_HANDLE)) return -EINVAL;
    if (strlen(path) + 24 >= PATH_MAX_LEN) return -ENAMETOOLONG;
    int e = install_hooks();
    if (e != 0) return e;
    size_t bytes = alloc_align_up(sizeof(alloc_recorder), alloc_os_page_size());
    void *mem;
    e = alloc_os_map(bytes, 1, &mem);
    if (e != 0) return e;
    alloc_recorder *r = (alloc_recorder *)mem; /* zeroed by the mapping */
    r->map_bytes = bytes;
    r->source = (uint32_t)source;
    r->page = alloc_os_page_size();
    r->chunk_bytes = CHUNK_BYTES > r->page ? CHUNK_BYTES : r->page;
    atomic_store(&r->seq, 1); /* id 0 means "not in the table" */
    /* Absolute: the trace is reopened by name if the program closes it, and
     * the program may have changed directory by then. */
    e = alloc_host_absolute_path(path, r->base, sizeof r->base - 24);
    if (e != 0) {
        alloc_os_unmap(r, bytes);
        return e;
    }
    memcpy(r->path, r->base, strlen(r->base) + 1);
    const char *prog = program ? program : alloc_host_program();
    size_t pn = strlen(prog);
    if (pn >= sizeof r->program) pn = sizeof r->program - 1;
    memcpy(r->program, prog, pn);
    e = write_header(r, source == ALLOC_RECORD_MALLOC && global);
    if (e != 0) {
        alloc_os_unmap(r, bytes);
        return e;
    }
    spin_lock(&registry_lock);
    int slot = -1;
    for (int i = 0; i < MAX_RECORDERS && slot < 0; i++)
        if (!registry[i].r) slot = i;
    if (slot >= 0) {
        r->gen = next_gen++;
        registry[slot].r = r;
        registry[slot].gen = r->gen;
    }
    spin_unlock(&registry_lock);
    if (slot < 0) {
        alloc_host_file_close(r->fd);
        alloc_os_unmap(r, bytes);
        return -EMFILE;
    }
    *out = r;
    return 0;
}

int alloc_recorder_open(alloc_recorder **out, const char *path, const char *program,
                        enum alloc_record_source source)
{
    return open_recorder(out, path, program, source, false);
}

/* Appends the end record. */
static int write_end(alloc_recorder *r)
{
    uint8_t end[TRACE_END_SIZE];
    trace_put_u32(end, TRACE_END_MAGIC);
    trace_put_u32(end + 4, (uint32_t)r->page);
    trace_put_u64(end + 8, atomic_load(&r->seq) - 1);
    trace_put_u64(end + 16, atomic_load(&r->unknown_frees));
    trace_put_u64(end + 24, atomic_load(&r->dropped));
    trace_put_u64(end + 32, alloc_host_monotonic_ns() - r->start_mono);
    spin_lock(&r->claim_lock);
    uint64_t off = r->file_end;
    int e = usable_fd(r);
    if (e == 0) e = alloc_host_file_resize(r->fd, off + r->page);
    if (e == 0) e = alloc_host_file_write_at(r->fd, off, end, sizeof end);
    if (e == 0) r->file_end = off + r->page;
    spin_unlock(&r->claim_lock);
    return e;
}

int alloc_recorder_close(alloc_recorder *r)
{
    spin_lock(&registry_lock);
    for (int i = 0; i < MAX_RECORDERS; i++)
        if (registry[i].r == r) registry[i].r = NULL;
    spin_unlock(&registry_lock);
    for (size_t k = 0; k < MAX_THREADS; k++) seal(&r->threads[k], r->chunk_bytes);
    for (int i = 0; i < TLS_SLOTS; i++)
        if (tls[i].r == r) tls[i].r = NULL;
    int e = atomic_load(&r->disabled) ? 0 : write_end(r);
    int first = atomic_load(&r->err);
    release_fd(r);
    for (int s = 0; s < STRIPES; s++)
        if (r->stripes[s].slots) alloc_os_unmap(r->stripes[s].slots, r->stripes[s].cap * sizeof(entry));
    alloc_os_unmap(r, r->map_bytes);
    return first ? first : e;
}

/* --- the global recorder ------------------------------------------------------------- */

static atomic_int global_lock;

int alloc_record_global_start(const char *path)
{
    spin_lock(&global_lock);
    int e = -EALREADY;
    if (!global_rec) {
        alloc_recorder *r;
        e = open_recorder(&r, path, NULL, ALLOC_RECORD_MALLOC, true);
        if (e == 0) {
            global_rec = r;
            atomic_store_explicit(&alloc_record_on, true, memory_order_release);
        }
    }
    spin_unlock(&global_lock);
    return e;
}

void alloc_record_global_stop(void)
{
    spin_lock(&global_lock);
    alloc_recorder *r = global_rec;
    if (r && !atomic_load(&r->disabled)) {
        atomic_store_explicit(&alloc_record_on, false, memory_order_release);
        write_end(r);
        /* Calls in flight may still touch r: it stays mapped, only disabled. */
        atomic_store(&r->disabled, true);
    }
    spin_unlock(&global_lock);
}

alloc_recorder *alloc_record_global(void)
{
    return atomic_load_explicit(&alloc_record_on, memory_order_acquire) ? global_rec : NULL;
}

void alloc_record_global_alloc(const void *p, size_t size, size_t align, enum alloc_record_kind kind)
{
    alloc_recorder *r = global_rec;
    if (r && !atomic_load_explicit(&r->disabled, memory_order_relaxed)) alloc_record_alloc(r, p, size, align, kind);
}

void alloc_record_global_free(const void *p)
{
    alloc_recorder *r = global_rec;
    if (r && !atomic_load_explicit(&r->disabled, memory_order_relaxed)) alloc_record_free(r, p);
}

void alloc_record_global_realloc(const void *old, const void *p, size_t new_size)
{
    alloc_recorder *r = global_rec;
    if (r && !atomic_load_explicit(&r->disabled, memory_order_relaxed)) alloc_record_realloc(r, old, p, new_size);
}

/* At exit (and at unload): the end record of the global recording. */
__attribute__((destructor)) static void record_at_exit(void)
{
    if (global_rec) alloc_record_global_stop();
}
