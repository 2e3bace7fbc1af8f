/*
 * map.c: a hash map from byte-string keys to uint64_t values.
 *
 * Algorithm: open addressing with linear probing in a power-of-two table of
 * slots {hash, key, key_len, value}. A slot is empty iff its hash is 0 (real
 * hashes have their top bit forced on, so never 0). The table is at most 3/4
 * full; the next insert beyond that doubles it first. Removal uses backward
 * shift: the run after the removed slot moves back over it as long as each
 * entry stays at or after its home slot, so no tombstones build up and every
 * lookup ends at the first empty slot.
 *
 * Bounds: with a reasonable hash, expected probe lengths are small constants
 * at load <= 3/4 (about 2.5 slots for a hit, 8.5 for a miss, by Knuth's
 * analysis of linear probing). Insert is amortised O(1) plus the key copy;
 * doubling is O(cap). Memory: 32 bytes per slot on 64-bit, cap >= len * 4/3,
 * plus one allocation of key_len + 1 bytes per key.
 *
 * Allocation order is chosen so a failure changes nothing: an insert first
 * copies the key, then grows the table; if the table cannot grow the key copy
 * is freed again (which is also the LIFO order a bump or stack allocator
 * needs). Growth builds the new table fully before freeing the old one.
 *
 * Hash: FNV-1a over the bytes followed by a 64-bit finaliser (xor-shift and
 * multiply) so that the low bits used for the slot index depend on every
 * input byte.
 */
#include "containers_internal.h"

#define MAP_MIN_CAP 8

static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h | ((uint64_t)1 << 63);
}

void alloc_map_init(alloc_map *m, allocator a)
{
    m->slots = NULL;
    m->len = 0;
    m->cap = 0;
    m->a = a;
}

static void free_key(alloc_map *m, char *key, size_t key_len, uintptr_t ret_addr)
{
    alloc_free_at(m->a, key, key_len + 1, 1, ret_addr);
}

void alloc_map_deinit(alloc_map *m)
{
    uintptr_t ret_addr = ALLOC_RET_ADDR();
    /* Keys in reverse table order, then the table: the nearest to LIFO we can
     * offer without remembering insertion order. */
    for (size_t i = m->cap; i-- > 0;)
        if (m->slots[i].hash) free_key(m, m->slots[i].key, m->slots[i].key_len, ret_addr);
    if (m->cap) alloc_free_array_at(m->a, m->slots, m->cap, sizeof(alloc_map_slot), _Alignof(alloc_map_slot), ret_addr);
    m->slots = NULL;
    m->len = 0;
    m->cap = 0;
}

/* Index of key's slot, or of the empty slot where it would go. Requires cap > 0. */
static size_t find(const alloc_map *m, uint64_t h, const void *key, size_t key_len)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const alloc_map_slot *s = &m->slots[i];
        if (s->hash == 0) return i;
        if (s->hash == h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) return i;
    }
}

/* Doubles the table (or makes the first one). Nothing changes on failure. */
static int grow(alloc_map *m, uintptr_t ret_addr)
{
    size_t new_cap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
    size_t bytes;
    if (m->cap > SIZE_MAX / 4 || alloc_mul_overflows(new_cap, sizeof(alloc_map_slot), &bytes) ||
        bytes > ALLOC_MAX_LEN)
        return -ALLOC_EOVERFLOW;
    alloc_map_slot *fresh = alloc_bytes_at(m->a, bytes, _Alignof(alloc_map_slot), ret_addr);
    if (!fresh) return -ALLOC_ENOMEM;
    memset(fresh, 0, bytes);
    size_t mask = new_cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        const alloc_map_slot *s = &m->slots[i];
        if (!s->hash) continue;
        size_t j = (size_t)s->hash & mask;
        while (fresh[j].hash) j = (j + 1) & mask;
        fresh[j] = *s;
    }
    if (m->cap) alloc_free_array_at(m->a, m->slots, m->cap, sizeof(alloc_map_slot), _Alignof(alloc_map_slot), ret_addr);
    m->slots = fresh;
    m->cap = new_cap;
    return 0;
}

static uint64_t *upsert(alloc_map *m, const void *key, size_t key_len, bool *inserted, int *err, uintptr_t ret_addr)
{
    if (inserted) *inserted = false;
    if (err) *err = 0;
    uint64_t h = hash_bytes(key, key_len);
    if (m->cap) {
        size_t i = find(m, h, key, key_len);
        if (m->slots[i].hash) return &m->slots[i].value;
    }
    int e = key_len >= ALLOC_MAX_LEN ? -ALLOC_EOVERFLOW : 0;
    char *copy = NULL;
    if (!e) {
        copy = alloc_bytes_at(m->a, key_len + 1, 1, ret_addr);
        if (!copy) e = -ALLOC_ENOMEM;
    }
    /* Keep the load at most 3/4 after this insert. */
    if (!e && (m->len + 1) * 4 > m->cap * 3) {
        e = grow(m, ret_addr);
        if (e) free_key(m, copy, key_len, ret_addr);
    }
    if (e) {
        if (err) *err = e;
        return NULL;
    }
    if (key_len) memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    size_t i = find(m, h, key, key_len);
    m->slots[i] = (alloc_map_slot){h, copy, key_len, 0};
    m->len++;
    if (inserted) *inserted = true;
    return &m->slots[i].value;
}

uint64_t *alloc_map_upsert(alloc_map *m, const void *key, size_t key_len, bool *inserted, int *err)
{
    return upsert(m, key, key_len, inserted, err, ALLOC_RET_ADDR());
}

int alloc_map_put(alloc_map *m, const void *key, size_t key_len, uint64_t value)
{
    int err;
    uint64_t *slot = upsert(m, key, key_len, NULL, &err, ALLOC_RET_ADDR());
    if (!slot) return err;
    *slot = value;
    return 0;
}

uint64_t *alloc_map_get(const alloc_map *m, const void *key, size_t key_len)
{
    if (m->len == 0) return NULL;
    size_t i = find(m, hash_bytes(key, key_len), key, key_len);
    return m->slots[i].hash ? &m->slots[i].value : NULL;
}

bool alloc_map_remove(alloc_map *m, const void *key, size_t key_len, uint64_t *out)
{
    if (m->len == 0) return false;
    size_t i = find(m, hash_bytes(key, key_len), key, key_len);
    if (!m->slots[i].hash) return false;
    if (out) *out = m->slots[i].value;
    free_key(m, m->slots[i].key, m->slots[i].key_len, ALLOC_RET_ADDR());
    size_t mask = m->cap - 1;
    /* Backward shift: pull later entries of the run into the hole unless that
     * would put one before its home slot. */
    for (size_t j = (i + 1) & mask; m->slots[j].hash; j = (j + 1) & mask) {
        size_t home = (size_t)m->slots[j].hash & mask;
        /* Entry j may move to i iff home is not in the cyclic range (i, j]. */
        bool home_after_hole = ((j - home) & mask) < ((j - i) & mask);
        if (home_after_hole) continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i] = (alloc_map_slot){0, NULL, 0, 0};
    m->len--;
    return true;
}

const alloc_map_slot *alloc_map_next(const alloc_map *m, size_t *pos)
{
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->slots[i].hash) {
            *pos = i + 1;
            return &m->slots[i];
        }
    }
    *pos = m->cap;
    return NULL;
}

bool alloc_map_check(const alloc_map *m)
{
    if (!m || !m->a.vtable) return false;
    if ((m->slots == NULL) != (m->cap == 0)) return false;
    if (m->cap == 0) return m->len == 0;
    if (m->cap < MAP_MIN_CAP || !alloc_is_pow2(m->cap)) return false;
    if (m->len * 4 > m->cap * 3) return false;
    size_t mask = m->cap - 1, live = 0;
    for (size_t i = 0; i < m->cap; i++) {
        const alloc_map_slot *s = &m->slots[i];
        if (!s->hash) continue;
        live++;
        if (!s->key || s->key[s->key_len] != '\0') return false;
        if (hash_bytes(s->key, s->key_len) != s->hash) return false;
        /* Every slot from home to i must be occupied, else lookups miss it. */
        for (size_t j = (size_t)s->hash & mask; j != i; j = (j + 1) & mask)
            if (!m->slots[j].hash) return false;
    }
    return live == m->len;
}
