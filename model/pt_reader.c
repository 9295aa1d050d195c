/* pt_reader.c — read a torch.save checkpoint without Python.
 *
 * A torch.save file is a zip archive (read with libzip):
 *     <prefix>/data.pkl        a pickle describing the state dict
 *     <prefix>/data/<key>      one raw little-endian storage per key
 *     <prefix>/version, <prefix>/byteorder (newer torch)
 *
 * The pickle is run by a small interpreter that knows only the opcodes
 * torch writes (protocols 2 and 4) and builds plain values: ints, floats,
 * strings, tuples, lists, dicts.  It never calls anything.  The only
 * globals it accepts are
 *     collections.OrderedDict                 -> an empty dict
 *     torch._utils._rebuild_tensor_v2         -> a tensor view of a storage
 *     torch._utils._rebuild_parameter(_with_state) -> the wrapped tensor
 *     torch.<Type>Storage                     -> the dtype of a storage
 * and anything else is an error that names the global.
 *
 * Persistent ids (BINPERSID) are the tuples
 *     ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
 * and _rebuild_tensor_v2(storage, storage_offset, size, stride, ...) makes a
 * view: element i of the view is storage[offset + sum_d idx_d * stride_d].
 * We require C-contiguous strides, so a view is one byte range of the
 * storage.  All storages a tensor uses are read into one blob
 * (adm_tensor_set.blob) and the tensors point into it.
 *
 * The legacy (pre-1.6, `_use_new_zipfile_serialization=False`) format is
 * not an archive but five pickles and the raw storages, one after another:
 *     1. the magic number 0x1950a86a20f9469cfc6c (a LONG1 of 10 bytes)
 *     2. the protocol version 1001
 *     3. sys_info {'protocol_version', 'little_endian', 'type_sizes'}
 *     4. the state dict; its persistent ids carry a sixth item,
 *        view_metadata, which must be None (storage views are pre-0.4)
 *     5. the list of storage keys, in the order the storages follow
 * then for each key: an int64 little-endian element count (equal to the
 * numel of its persistent id) and numel * element-size raw bytes.
 *
 * Every count, offset and size from the file is checked before use.
 */
#include "tensor.h"
#include "util.h"
#include "zip_entry.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

/* ---- pickle values ---------------------------------------------------- */

typedef enum {
    PV_NONE, PV_BOOL, PV_INT, PV_FLOAT, PV_STR, PV_TUPLE, PV_LIST, PV_DICT,
    PV_GLOBAL, PV_STORAGE, PV_TENSOR
} pv_kind;

/* The globals we know.  Storage types map to a dtype. */
typedef enum {
    G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_PARAMETER, G_REBUILD_PARAMETER_STATE, G_STORAGE
} pk_global_id;

typedef struct {
    pv_kind kind;
    int64_t i;              /* INT, BOOL; GLOBAL: pk_global; STORAGE/TENSOR: table index */
    double f;               /* FLOAT */
    const char *s;          /* STR: points into the pickle bytes */
    size_t slen;
    adm_dtype dtype;        /* GLOBAL G_STORAGE */
    int *items;             /* TUPLE/LIST: values; DICT: key, value, key, value ... */
    int n, cap;
} pk_value;

typedef struct {                /* a storage named by a persistent id */
    const char *key; size_t keylen;
    adm_dtype dtype;
    int64_t numel;
    size_t base;                /* byte offset in the blob (once read) */
    int used;
} pk_storage;

typedef struct {                /* a tensor made by _rebuild_tensor_v2 */
    int storage;
    int64_t offset;
    int ndim;
    int64_t shape[ADM_MAX_DIMS], stride[ADM_MAX_DIMS];
} pk_tensor;

/* A string-keyed hash index (open addressing, linear probing, at most half
 * full): dictionary keys and storage keys are found in expected O(1), so a
 * state dict of n tensors loads in O(n), not O(n^2) as a linear scan would. */
typedef struct { uint64_t h; int owner, slot; } pk_hentry;   /* slot < 0: empty */
typedef struct { pk_hentry *e; size_t cap, n; } pk_index;

typedef struct {
    const char *label;
    const uint8_t *p;           /* the pickle bytes */
    size_t len, pos;
    pk_value *v; int nv, capv;          /* value pool: values are referred to by index */
    int *stack; int nstack, capstack;
    int *marks; int nmarks, capmarks;
    int *memo; size_t nmemo;            /* memo[i] = value index or -1 */
    size_t memo_count;                  /* defined entries: MEMOIZE's index */
    pk_storage *st; int nst, capst;
    pk_tensor *tt; int ntt, captt;
    pk_index keys;                      /* (dict, string key) -> the key's place in the dict's items */
    pk_index stkeys;                    /* storage key -> storage index */
} pk_state;

/* Grow *arr (element size es) so that index `need` fits. */
static int pk_grow(const char *label, void **arr, int *cap, int need, size_t es) {
    if (need < *cap) return 0;
    if (need >= (1 << 28)) return adm_error("%s: pickle too large", label);
    int ncap = *cap ? *cap : 16;
    while (ncap <= need) ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * es);
    if (!p) return adm_error("%s: out of memory reading pickle", label);
    *arr = p; *cap = ncap;
    return 0;
}

static int pk_new(pk_state *S, pv_kind kind) {
    if (pk_grow(S->label, (void **)&S->v, &S->capv, S->nv, sizeof *S->v) != 0) return -1;
    pk_value *v = &S->v[S->nv];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return S->nv++;
}

static int pk_push(pk_state *S, int vi) {
    if (vi < 0) return -1;
    if (pk_grow(S->label, (void **)&S->stack, &S->capstack, S->nstack, sizeof *S->stack) != 0) return -1;
    S->stack[S->nstack++] = vi;
    return 0;
}

static int pk_pop(pk_state *S) {
    int floor = S->nmarks ? S->marks[S->nmarks - 1] : 0;
    if (S->nstack <= floor) return adm_error("%s: pickle stack underflow at offset %zu", S->label, S->pos);
    return S->stack[--S->nstack];
}

static int pk_top(pk_state *S) {
    int floor = S->nmarks ? S->marks[S->nmarks - 1] : 0;
    if (S->nstack <= floor) return adm_error("%s: pickle stack underflow at offset %zu", S->label, S->pos);
    return S->stack[S->nstack - 1];
}

/* Append value vi to the items of container ci. */
static int pk_append(pk_state *S, int ci, int vi) {
    pk_value *c = &S->v[ci];
    if (pk_grow(S->label, (void **)&c->items, &c->cap, c->n, sizeof *c->items) != 0) return -1;
    c->items[c->n++] = vi;
    return 0;
}

/* Pop everything above the last MARK into a new tuple or list. */
static int pk_pop_mark(pk_state *S, pv_kind kind) {
    if (!S->nmarks) return adm_error("%s: pickle MARK missing at offset %zu", S->label, S->pos);
    int m = S->marks[--S->nmarks];
    int ti = pk_new(S, kind);
    if (ti < 0) return -1;
    for (int k = m; k < S->nstack; k++)
        if (pk_append(S, ti, S->stack[k]) != 0) return -1;
    S->nstack = m;
    return ti;
}

static int pk_str_eq(const pk_value *v, const char *s) {
    return v->kind == PV_STR && v->slen == strlen(s) && memcmp(v->s, s, v->slen) == 0;
}

/* Slots probed in the hash indexes since start: a statistic for the test
 * that dictionaries load in linear time (tests/test_pt_bigdict.c). */
static _Atomic unsigned long long pk_probes;
unsigned long long adm_pt_hash_probes(void) { return pk_probes; }

/* FNV-1a over the key's bytes, mixed with the owner (the dict's value index). */
static uint64_t pk_hash(const char *s, size_t n, int owner) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uint32_t)owner * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 1099511628211ull; }
    return h ^ (h >> 29);
}

/* Room for one more entry (at most half full: short probe runs). */
static int pk_index_reserve(const char *label, pk_index *t) {
    if ((t->n + 1) * 2 <= t->cap) return 0;
    size_t cap = t->cap ? t->cap * 2 : 64;
    if (cap > ((size_t)1 << 30)) return adm_error("%s: pickle too large", label);
    pk_hentry *e = malloc(cap * sizeof *e);
    if (!e) return adm_error("%s: out of memory reading pickle", label);
    for (size_t i = 0; i < cap; i++) e[i].slot = -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->e[i].slot < 0) continue;
        size_t j = t->e[i].h & (cap - 1);
        while (e[j].slot >= 0) j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    free(t->e);
    t->e = e;
    t->cap = cap;
    return 0;
}

/* The entry for (h, owner) whose key equals s[0..n) by same(), or the empty
 * entry where it would go.  The index must have room (pk_index_reserve). */
typedef int (*pk_same_fn)(const pk_state *S, int owner, int slot, const char *s, size_t n);
static pk_hentry *pk_index_find(const pk_state *S, const pk_index *t, uint64_t h, int owner, const char *s, size_t n,
                                pk_same_fn same) {
    for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        pk_probes++;
        pk_hentry *e = &t->e[j];
        if (e->slot < 0 || (e->h == h && e->owner == owner && same(S, owner, e->slot, s, n))) return e;
    }
}

/* Is the key at items[slot] of dict `owner` the string s[0..n)? */
static int pk_same_dict_key(const pk_state *S, int owner, int slot, const char *s, size_t n) {
    const pk_value *o = &S->v[S->v[owner].items[slot]];
    return o->kind == PV_STR && o->slen == n && memcmp(o->s, s, n) == 0;
}

/* Is storage `slot`'s key the string s[0..n)? */
static int pk_same_storage_key(const pk_state *S, int owner, int slot, const char *s, size_t n) {
    return S->st[slot].keylen == n && memcmp(S->st[slot].key, s, n) == 0;
}

/* dict[key] = value (a later key replaces an earlier one, as in Python).
 * String keys are found through S->keys; other keys (never in a state
 * dict) are appended. */
static int pk_setitem(pk_state *S, int di, int ki, int vi) {
    if (S->v[di].kind != PV_DICT) return adm_error("%s: pickle SETITEM on a non-dict", S->label);
    const pk_value *k = &S->v[ki];
    if (k->kind == PV_STR) {
        if (pk_index_reserve(S->label, &S->keys) != 0) return -1;
        uint64_t h = pk_hash(k->s, k->slen, di);
        pk_hentry *e = pk_index_find(S, &S->keys, h, di, k->s, k->slen, pk_same_dict_key);
        if (e->slot >= 0) {
            S->v[di].items[e->slot + 1] = vi;
            return 0;
        }
        *e = (pk_hentry){h, di, S->v[di].n};
        S->keys.n++;
    }
    if (pk_append(S, di, ki) != 0) return -1;
    return pk_append(S, di, vi);
}

/* ---- globals --------------------------------------------------------- */

static const struct { const char *name; adm_dtype dtype; } pk_storage_types[] = {
    {"FloatStorage", ADM_F32}, {"HalfStorage", ADM_F16}, {"BFloat16Storage", ADM_BF16},
    {"DoubleStorage", ADM_F64}, {"LongStorage", ADM_I64}, {"IntStorage", ADM_I32},
    {"ByteStorage", ADM_U8},
};

static int pk_global(pk_state *S, const char *mod, size_t modlen, const char *name, size_t namelen) {
    int gi = pk_new(S, PV_GLOBAL);
    if (gi < 0) return -1;
#define IS(str, len, lit) ((len) == sizeof(lit) - 1 && memcmp((str), (lit), (len)) == 0)
    pk_value *g = &S->v[gi];
    if (IS(mod, modlen, "collections") && IS(name, namelen, "OrderedDict")) g->i = G_ORDERED_DICT;
    else if (IS(mod, modlen, "torch._utils") && IS(name, namelen, "_rebuild_tensor_v2")) g->i = G_REBUILD_TENSOR_V2;
    else if (IS(mod, modlen, "torch._utils") && IS(name, namelen, "_rebuild_parameter")) g->i = G_REBUILD_PARAMETER;
    else if (IS(mod, modlen, "torch._utils") && IS(name, namelen, "_rebuild_parameter_with_state"))
        g->i = G_REBUILD_PARAMETER_STATE;
    else {
        int found = 0;
        if (IS(mod, modlen, "torch"))
            for (size_t k = 0; k < sizeof pk_storage_types / sizeof *pk_storage_types; k++)
                if (namelen == strlen(pk_storage_types[k].name) && memcmp(name, pk_storage_types[k].name, namelen) == 0) {
                    g->i = G_STORAGE; g->dtype = pk_storage_types[k].dtype; found = 1;
                }
        if (!found) {
            if (IS(mod, modlen, "torch") && namelen > 7 && memcmp(name + namelen - 7, "Storage", 7) == 0)
                return adm_error("%s: storage type torch.%.*s is not supported", S->label, (int)namelen, name);
            return adm_error("%s: pickle global %.*s.%.*s is not allowed (only tensor rebuild functions, "
                             "OrderedDict and storage types)", S->label, (int)(modlen > 100 ? 100 : modlen), mod,
                             (int)(namelen > 100 ? 100 : namelen), name);
        }
    }
#undef IS
    return gi;
}

/* BINPERSID: ('storage', <storage type>, key, location, numel) -> storage;
 * the legacy format adds view_metadata, which must be None. */
static int pk_persistent_load(pk_state *S, int pi) {
    const pk_value *t = &S->v[pi];
    if (t->kind != PV_TUPLE || (t->n != 5 && t->n != 6) || !pk_str_eq(&S->v[t->items[0]], "storage"))
        return adm_error("%s: unsupported persistent id (expected a 'storage' tuple)", S->label);
    if (t->n == 6 && S->v[t->items[5]].kind != PV_NONE)
        return adm_error("%s: storage views (pre-0.4 torch files) are not supported", S->label);
    const pk_value *type = &S->v[t->items[1]], *key = &S->v[t->items[2]], *numel = &S->v[t->items[4]];
    if (type->kind != PV_GLOBAL || type->i != G_STORAGE || key->kind != PV_STR || numel->kind != PV_INT)
        return adm_error("%s: malformed storage persistent id", S->label);
    if (key->slen == 0 || key->slen > 64 || memchr(key->s, '/', key->slen) || memchr(key->s, 0, key->slen))
        return adm_error("%s: bad storage key", S->label);
    if (numel->i < 0 || (uint64_t)numel->i > ((uint64_t)1 << 60) / 8)
        return adm_error("%s: storage %.*s: absurd size %lld", S->label, (int)key->slen, key->s, (long long)numel->i);
    if (pk_index_reserve(S->label, &S->stkeys) != 0) return -1;
    uint64_t h = pk_hash(key->s, key->slen, -1);
    pk_hentry *e = pk_index_find(S, &S->stkeys, h, -1, key->s, key->slen, pk_same_storage_key);
    int si = e->slot;
    if (si >= 0) {
        if (S->st[si].dtype != type->dtype || S->st[si].numel != numel->i)
            return adm_error("%s: storage %.*s described twice differently", S->label, (int)key->slen, key->s);
    } else {
        if (pk_grow(S->label, (void **)&S->st, &S->capst, S->nst, sizeof *S->st) != 0) return -1;
        si = S->nst++;
        S->st[si] = (pk_storage){ .key = key->s, .keylen = key->slen, .dtype = type->dtype, .numel = numel->i };
        *e = (pk_hentry){h, -1, si};
        S->stkeys.n++;
    }
    int vi = pk_new(S, PV_STORAGE);
    if (vi >= 0) S->v[vi].i = si;
    return vi;
}

/* Read a tuple of ints (a size or a stride) into out[]. */
static int pk_int_tuple(pk_state *S, int ti, int64_t *out, int *n) {
    const pk_value *t = &S->v[ti];
    if (t->kind != PV_TUPLE && t->kind != PV_LIST) return adm_error("%s: tensor size/stride is not a tuple", S->label);
    if (t->n > ADM_MAX_DIMS) return adm_error("%s: tensor has %d dimensions (at most %d)", S->label, t->n, ADM_MAX_DIMS);
    for (int k = 0; k < t->n; k++) {
        const pk_value *e = &S->v[t->items[k]];
        if (e->kind != PV_INT) return adm_error("%s: tensor size/stride holds a non-integer", S->label);
        out[k] = e->i;
    }
    *n = t->n;
    return 0;
}

/* REDUCE / NEWOBJ: call one of the known globals with the args tuple. */
static int pk_call(pk_state *S, int fi, int ai) {
    const pk_value *f = &S->v[fi], *a = &S->v[ai];
    if (f->kind != PV_GLOBAL) return adm_error("%s: pickle calls a non-callable", S->label);
    if (a->kind != PV_TUPLE) return adm_error("%s: pickle call arguments are not a tuple", S->label);
    switch ((pk_global_id)f->i) {
    case G_ORDERED_DICT:
        if (a->n != 0) return adm_error("%s: OrderedDict with arguments is not supported", S->label);
        return pk_new(S, PV_DICT);
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_STATE:
        if (a->n < 1 || S->v[a->items[0]].kind != PV_TENSOR)
            return adm_error("%s: _rebuild_parameter without a tensor", S->label);
        return a->items[0];
    case G_REBUILD_TENSOR_V2: {
        if (a->n < 4) return adm_error("%s: _rebuild_tensor_v2 with %d arguments", S->label, a->n);
        const pk_value *st = &S->v[a->items[0]], *off = &S->v[a->items[1]];
        if (st->kind != PV_STORAGE || off->kind != PV_INT)
            return adm_error("%s: _rebuild_tensor_v2 with bad storage/offset", S->label);
        pk_tensor t = { .storage = (int)st->i, .offset = off->i };
        int ns = 0;
        if (pk_int_tuple(S, a->items[2], t.shape, &t.ndim) != 0) return -1;
        if (pk_int_tuple(S, a->items[3], t.stride, &ns) != 0) return -1;
        if (ns != t.ndim) return adm_error("%s: tensor size and stride differ in length", S->label);
        if (pk_grow(S->label, (void **)&S->tt, &S->captt, S->ntt, sizeof *S->tt) != 0) return -1;
        S->tt[S->ntt] = t;
        int vi = pk_new(S, PV_TENSOR);
        if (vi >= 0) S->v[vi].i = S->ntt++;
        return vi;
    }
    case G_STORAGE:
        return adm_error("%s: pickle calls a storage type", S->label);
    }
    return adm_error("%s: unknown global", S->label);
}

/* ---- the interpreter --------------------------------------------------- */

static int pk_need(pk_state *S, size_t n) {
    if (n > S->len - S->pos) return adm_error("%s: pickle truncated at offset %zu", S->label, S->pos);
    return 0;
}

static uint64_t pk_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

/* A string value of n bytes at the current position. */
static int pk_string(pk_state *S, uint64_t n) {
    if (n > S->len - S->pos) return adm_error("%s: pickle string runs past the end", S->label);
    int vi = pk_new(S, PV_STR);
    if (vi < 0) return -1;
    S->v[vi].s = (const char *)S->p + S->pos; S->v[vi].slen = (size_t)n;
    S->pos += (size_t)n;
    return pk_push(S, vi);
}

static int pk_int(pk_state *S, int64_t x) {
    int vi = pk_new(S, PV_INT);
    if (vi < 0) return -1;
    S->v[vi].i = x;
    return pk_push(S, vi);
}

static int pk_memo_put(pk_state *S, uint64_t idx) {
    int top = pk_top(S);
    if (top < 0) return -1;
    if (idx > S->len) return adm_error("%s: pickle memo index %llu out of range", S->label, (unsigned long long)idx);
    if (idx >= S->nmemo) {
        size_t n = S->nmemo ? S->nmemo : 64;
        while (n <= idx) n *= 2;
        int *m = realloc(S->memo, n * sizeof *m);
        if (!m) return adm_error("%s: out of memory reading pickle", S->label);
        for (size_t k = S->nmemo; k < n; k++) m[k] = -1;
        S->memo = m; S->nmemo = n;
    }
    if (S->memo[idx] < 0) S->memo_count++;
    S->memo[idx] = top;
    return 0;
}

static int pk_memo_get(pk_state *S, uint64_t idx) {
    if (idx >= S->nmemo || S->memo[idx] < 0)
        return adm_error("%s: pickle memo index %llu not defined", S->label, (unsigned long long)idx);
    return pk_push(S, S->memo[idx]);
}

/* Read a newline-terminated line (GLOBAL's operands). */
static int pk_line(pk_state *S, const char **s, size_t *n) {
    const uint8_t *nl = memchr(S->p + S->pos, '\n', S->len - S->pos);
    if (!nl) return adm_error("%s: pickle truncated in GLOBAL", S->label);
    *s = (const char *)S->p + S->pos; *n = (size_t)(nl - (S->p + S->pos));
    S->pos += *n + 1;
    return 0;
}

/* Run the pickle; on success *result is the value STOP returned. */
static int pk_run(pk_state *S, int *result) {
    while (S->pos < S->len) {
        size_t at = S->pos;
        uint8_t op = S->p[S->pos++];
        int a, b, c, r = 0;
        switch (op) {
        case 0x80: /* PROTO */
            if (pk_need(S, 1)) return -1;
            if (S->p[S->pos] > 5) return adm_error("%s: pickle protocol %d not supported", S->label, S->p[S->pos]);
            S->pos += 1; break;
        case 0x95: /* FRAME: 8-byte length; frames are only a read-ahead hint */
            if (pk_need(S, 8)) return -1;
            S->pos += 8; break;
        case '.': /* STOP */
            if ((a = pk_pop(S)) < 0) return -1;
            *result = a;
            return 0;
        case '}': r = pk_push(S, pk_new(S, PV_DICT)); break;      /* EMPTY_DICT */
        case ']': r = pk_push(S, pk_new(S, PV_LIST)); break;      /* EMPTY_LIST */
        case ')': r = pk_push(S, pk_new(S, PV_TUPLE)); break;     /* EMPTY_TUPLE */
        case 'N': r = pk_push(S, pk_new(S, PV_NONE)); break;      /* NONE */
        case 0x88: case 0x89:                                      /* NEWTRUE, NEWFALSE */
            if ((a = pk_new(S, PV_BOOL)) < 0) return -1;
            S->v[a].i = op == 0x88;
            r = pk_push(S, a); break;
        case '(': /* MARK */
            if (pk_grow(S->label, (void **)&S->marks, &S->capmarks, S->nmarks, sizeof *S->marks)) return -1;
            S->marks[S->nmarks++] = S->nstack; break;
        case '0': r = pk_pop(S) < 0 ? -1 : 0; break;               /* POP */
        case '1': /* POP_MARK */
            if (!S->nmarks) return adm_error("%s: pickle POP_MARK without MARK", S->label);
            S->nstack = S->marks[--S->nmarks]; break;
        case '2': r = (a = pk_top(S)) < 0 ? -1 : pk_push(S, a); break;  /* DUP */
        case 'q': if (pk_need(S, 1)) return -1; r = pk_memo_put(S, S->p[S->pos]); S->pos += 1; break;   /* BINPUT */
        case 'r': if (pk_need(S, 4)) return -1; r = pk_memo_put(S, pk_le(S->p + S->pos, 4)); S->pos += 4; break;
        case 0x94: r = pk_memo_put(S, S->memo_count); break;                  /* MEMOIZE */
        case 'h': if (pk_need(S, 1)) return -1; r = pk_memo_get(S, S->p[S->pos]); S->pos += 1; break;   /* BINGET */
        case 'j': if (pk_need(S, 4)) return -1; r = pk_memo_get(S, pk_le(S->p + S->pos, 4)); S->pos += 4; break;
        case 'c': { /* GLOBAL "module\nname\n" */
            const char *m, *n; size_t ml, nl;
            if (pk_line(S, &m, &ml) || pk_line(S, &n, &nl)) return -1;
            r = pk_push(S, pk_global(S, m, ml, n, nl)); break;
        }
        case 0x93: /* STACK_GLOBAL */
            if ((b = pk_pop(S)) < 0 || (a = pk_pop(S)) < 0) return -1;
            if (S->v[a].kind != PV_STR || S->v[b].kind != PV_STR)
                return adm_error("%s: STACK_GLOBAL operands are not strings", S->label);
            r = pk_push(S, pk_global(S, S->v[a].s, S->v[a].slen, S->v[b].s, S->v[b].slen)); break;
        case 'X': case 'T': case 'B':   /* BINUNICODE, BINSTRING, BINBYTES: 4-byte length */
            if (pk_need(S, 4)) return -1;
            { uint64_t n = pk_le(S->p + S->pos, 4); S->pos += 4; r = pk_string(S, n); } break;
        case 0x8c: case 'U': case 'C':  /* SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES */
            if (pk_need(S, 1)) return -1;
            { uint64_t n = S->p[S->pos]; S->pos += 1; r = pk_string(S, n); } break;
        case 0x8d: case 0x8e:           /* BINUNICODE8, BINBYTES8 */
            if (pk_need(S, 8)) return -1;
            { uint64_t n = pk_le(S->p + S->pos, 8); S->pos += 8; r = pk_string(S, n); } break;
        case 'J': if (pk_need(S, 4)) return -1; r = pk_int(S, (int32_t)(uint32_t)pk_le(S->p + S->pos, 4)); S->pos += 4; break;
        case 'K': if (pk_need(S, 1)) return -1; r = pk_int(S, S->p[S->pos]); S->pos += 1; break;
        case 'M': if (pk_need(S, 2)) return -1; r = pk_int(S, (int64_t)pk_le(S->p + S->pos, 2)); S->pos += 2; break;
        case 0x8a: case 0x8b: { /* LONG1, LONG4: little-endian two's complement */
            int lw = op == 0x8a ? 1 : 4;
            if (pk_need(S, (size_t)lw)) return -1;
            uint64_t n = pk_le(S->p + S->pos, lw); S->pos += (size_t)lw;
            if (n > 8) return adm_error("%s: pickle integer of %llu bytes is too large", S->label, (unsigned long long)n);
            if (pk_need(S, (size_t)n)) return -1;
            uint64_t x = pk_le(S->p + S->pos, (int)n);
            if (n > 0 && n < 8 && (S->p[S->pos + n - 1] & 0x80)) x |= ~(uint64_t)0 << (8 * n);  /* sign-extend */
            S->pos += (size_t)n;
            r = pk_int(S, (int64_t)x); break;
        }
        case 'G': { /* BINFLOAT: big-endian double */
            if (pk_need(S, 8)) return -1;
            uint64_t bits = 0;
            for (int k = 0; k < 8; k++) bits = bits << 8 | S->p[S->pos + k];
            S->pos += 8;
            if ((a = pk_new(S, PV_FLOAT)) < 0) return -1;
            memcpy(&S->v[a].f, &bits, 8);
            r = pk_push(S, a); break;
        }
        case 't': r = pk_push(S, pk_pop_mark(S, PV_TUPLE)); break;   /* TUPLE */
        case 'l': r = pk_push(S, pk_pop_mark(S, PV_LIST)); break;    /* LIST */
        case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
            int n = op - 0x84, it[3];
            for (int k = n - 1; k >= 0; k--) if ((it[k] = pk_pop(S)) < 0) return -1;
            if ((a = pk_new(S, PV_TUPLE)) < 0) return -1;
            for (int k = 0; k < n; k++) if (pk_append(S, a, it[k])) return -1;
            r = pk_push(S, a); break;
        }
        case 'Q': /* BINPERSID */
            if ((a = pk_pop(S)) < 0) return -1;
            r = pk_push(S, pk_persistent_load(S, a)); break;
        case 'R': case 0x81: /* REDUCE, NEWOBJ */
            if ((b = pk_pop(S)) < 0 || (a = pk_pop(S)) < 0) return -1;
            r = pk_push(S, pk_call(S, a, b)); break;
        case 'b': /* BUILD: state of an OrderedDict (_metadata) or a parameter is dropped */
            if ((b = pk_pop(S)) < 0 || (a = pk_top(S)) < 0) return -1;
            if (S->v[a].kind != PV_DICT && S->v[a].kind != PV_TENSOR)
                return adm_error("%s: pickle BUILD on an unsupported object", S->label);
            break;
        case 's': /* SETITEM */
            if ((c = pk_pop(S)) < 0 || (b = pk_pop(S)) < 0 || (a = pk_top(S)) < 0) return -1;
            r = pk_setitem(S, a, b, c); break;
        case 'u': { /* SETITEMS */
            if (!S->nmarks) return adm_error("%s: pickle SETITEMS without MARK", S->label);
            int m = S->marks[--S->nmarks];
            if (m < 1 || (S->nstack - m) % 2) return adm_error("%s: malformed SETITEMS", S->label);
            int d = S->stack[m - 1];
            for (int k = m; k < S->nstack && r == 0; k += 2) r = pk_setitem(S, d, S->stack[k], S->stack[k + 1]);
            S->nstack = m; break;
        }
        case 'a': /* APPEND */
            if ((b = pk_pop(S)) < 0 || (a = pk_top(S)) < 0) return -1;
            if (S->v[a].kind != PV_LIST) return adm_error("%s: pickle APPEND to a non-list", S->label);
            r = pk_append(S, a, b); break;
        case 'e': { /* APPENDS */
            if (!S->nmarks) return adm_error("%s: pickle APPENDS without MARK", S->label);
            int m = S->marks[--S->nmarks];
            if (m < 1 || S->v[S->stack[m - 1]].kind != PV_LIST) return adm_error("%s: malformed APPENDS", S->label);
            for (int k = m; k < S->nstack && r == 0; k++) r = pk_append(S, S->stack[m - 1], S->stack[k]);
            S->nstack = m; break;
        }
        default:
            return adm_error("%s: unknown pickle opcode 0x%02x at offset %zu", S->label, op, at);
        }
        if (r != 0) return -1;
    }
    return adm_error("%s: pickle ends without STOP", S->label);
}

static void pk_free(pk_state *S) {
    for (int k = 0; k < S->nv; k++) free(S->v[k].items);
    free(S->v); free(S->stack); free(S->marks); free(S->memo); free(S->st); free(S->tt);
    free(S->keys.e); free(S->stkeys.e);
}

/* ---- the archive ------------------------------------------------------ */

/* Check a view is C-contiguous and inside its storage; return its byte size. */
static int pt_check_view(const char *label, const char *name, const pk_tensor *t, const pk_storage *s, size_t *nbytes) {
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0 || (uint64_t)t->shape[d] > ((uint64_t)1 << 40))
            return adm_error("%s: tensor %s: absurd dimension %lld", label, name, (long long)t->shape[d]);
        if (t->shape[d] && numel > ((uint64_t)1 << 40) / (uint64_t)t->shape[d])
            return adm_error("%s: tensor %s: size overflow", label, name);
        numel *= (uint64_t)t->shape[d];
    }
    /* C order: stride[d] = prod(shape[d+1:]) wherever shape[d] > 1.
     * (numel <= 2^40 here, so the products below cannot overflow.) */
    uint64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0 && numel > 0; d--) {
        if (t->shape[d] != 1 && (uint64_t)t->stride[d] != expect)
            return adm_error("%s: tensor %s: non-contiguous strides are not supported", label, name);
        expect *= (uint64_t)t->shape[d];
    }
    if (t->offset < 0 || (uint64_t)t->offset > (uint64_t)s->numel || numel > (uint64_t)s->numel - (uint64_t)t->offset)
        return adm_error("%s: tensor %s: needs elements %lld..%lld of storage %.*s, which holds %lld",
                         label, name, (long long)t->offset, (long long)(t->offset + (int64_t)numel),
                         (int)s->keylen, s->key, (long long)s->numel);
    *nbytes = (size_t)numel * adm_dtype_size(s->dtype);
    return 0;
}

/* Walk the state dict (nested dicts become "outer.inner" names). */
typedef struct { int value; char *name; } pt_item;

static int pt_collect(pk_state *S, int di, const char *prefix, int depth, pt_item **items, int *n, int *cap,
                      size_t *visits) {
    const pk_value *d = &S->v[di];
    if (depth > 4) return adm_error("%s: state dict nested too deeply", S->label);
    for (int j = 0; j + 1 < d->n; j += 2) {
        /* A dict shared many times over could name more tensors than the
         * pickle has bytes: refuse that instead of walking it. */
        if (++*visits > S->len) return adm_error("%s: state dict refers to the same sub-dicts over and over", S->label);
        const pk_value *k = &S->v[d->items[j]];
        int vi = d->items[j + 1];
        if (k->kind != PV_STR || k->slen > 1000 || memchr(k->s, 0, k->slen))
            return adm_error("%s: state dict key is not a name", S->label);
        size_t plen = strlen(prefix);
        char *name = malloc(plen + k->slen + 2);
        if (!name) return adm_error("out of memory");
        snprintf(name, plen + k->slen + 2, "%s%s%.*s", prefix, plen ? "." : "", (int)k->slen, k->s);
        if (S->v[vi].kind == PV_DICT) {
            int rc = pt_collect(S, vi, name, depth + 1, items, n, cap, visits);
            free(name);
            if (rc != 0) return -1;
        } else if (S->v[vi].kind == PV_TENSOR) {
            if (pk_grow(S->label, (void **)items, cap, *n, sizeof **items) != 0) { free(name); return -1; }
            (*items)[(*n)++] = (pt_item){ vi, name };
        } else {
            adm_error("%s: state dict entry %s is not a tensor", S->label, name);
            free(name);
            return -1;
        }
    }
    return 0;
}

/* Where the storages' bytes come from: entries <prefix>data/<key> of a zip
 * archive, or (legacy) byte ranges of the file, offs[k] for storage k. */
typedef struct {
    const char *label;
    zip_t *z; const char *prefix; size_t file_len;
    const uint8_t *buf; const size_t *offs;
    int index_only;             /* names, dtypes, shapes only: data NULL, nothing read */
} pt_source;

/* Check storage k has its need bytes (zip: locate its entry). */
static int pt_source_check(const pt_source *src, const pk_storage *s, int k, size_t need, zip_int64_t *entry) {
    if (!src->z) {
        if (src->offs[k] == SIZE_MAX)
            return adm_error("%s: storage %.*s is not in the file's list of storages", src->label, (int)s->keylen, s->key);
        return 0;           /* the legacy walk checked the length against the file */
    }
    char path[600];
    snprintf(path, sizeof path, "%sdata/%.*s", src->prefix, (int)s->keylen, s->key);
    zip_int64_t e = zip_name_locate(src->z, path, 0);
    size_t have;
    if (e < 0) return adm_error("%s: storage %s is missing from the archive", src->label, path);
    if (adm_zip_entry_size(src->label, src->z, e, src->file_len, &have) != 0) return -1;
    if (have < need) return adm_error("%s: storage %s holds %zu bytes, the pickle claims %zu", src->label, path, have, need);
    *entry = e;
    return 0;
}

/* Turn the state-dict pickle's result into out: lay the storages that
 * tensors use out in one blob (each 64-byte aligned), check every view,
 * then read the bytes. */
static int pt_build(pk_state *S, int result, const pt_source *src, adm_tensor_set *out) {
    const char *label = src->label;
    pt_item *items = NULL; int nitems = 0, capitems = 0, rc = -1;
    uint8_t *blob = NULL;
    zip_int64_t *entries = NULL;
    size_t visits = 0, total = 0;
    if (S->v[result].kind != PV_DICT) { adm_error("%s: the checkpoint is not a state dict", label); goto done; }
    if (pt_collect(S, result, "", 0, &items, &nitems, &capitems, &visits) != 0) goto done;
    if (nitems == 0) { adm_error("%s: the checkpoint holds no tensors", label); goto done; }
    if (!(entries = adm_calloc((size_t)S->nst, sizeof *entries))) goto done;

    for (int k = 0; k < nitems; k++) S->st[S->tt[S->v[items[k].value].i].storage].used = 1;
    for (int k = 0; k < S->nst; k++) {
        pk_storage *s = &S->st[k];
        if (!s->used) continue;
        size_t need = (size_t)s->numel * adm_dtype_size(s->dtype);
        if (pt_source_check(src, s, k, need, &entries[k]) != 0) goto done;
        if (need > ((size_t)1 << 62) - total) { adm_error("%s: checkpoint too large", label); goto done; }
        s->base = total;
        total += (need + 63) & ~(size_t)63;
    }
    /* Check every view before reading any data. */
    for (int k = 0; k < nitems; k++) {
        const pk_tensor *t = &S->tt[S->v[items[k].value].i];
        size_t nb;
        if (pt_check_view(label, items[k].name, t, &S->st[t->storage], &nb) != 0) goto done;
    }
    if (!src->index_only && !(blob = adm_malloc(total ? total : 1))) { adm_error_prefix("%s", label); goto done; }
    for (int k = 0; blob && k < S->nst; k++) {
        pk_storage *s = &S->st[k];
        if (!s->used) continue;
        size_t need = (size_t)s->numel * adm_dtype_size(s->dtype);
        if (src->z) { if (adm_zip_read_entry(label, src->z, entries[k], blob + s->base, need) != 0) goto done; }
        else memcpy(blob + s->base, src->buf + src->offs[k], need);
    }

    out->t = adm_calloc((size_t)nitems, sizeof *out->t);
    if (!out->t) goto done;
    for (int k = 0; k < nitems; k++) {
        const pk_tensor *t = &S->tt[S->v[items[k].value].i];
        const pk_storage *s = &S->st[t->storage];
        adm_tensor *o = &out->t[k];
        o->name = items[k].name; items[k].name = NULL;
        o->dtype = s->dtype;
        o->ndim = t->ndim;
        memcpy(o->shape, t->shape, sizeof t->shape);
        pt_check_view(label, o->name, t, s, &o->nbytes);
        o->data = blob ? blob + s->base + (size_t)t->offset * adm_dtype_size(s->dtype) : NULL;
        o->owns_data = 0;
    }
    out->n = nitems;
    out->blob = blob; out->blob_len = blob ? total : 0; blob = NULL;
    rc = 0;
done:
    for (int k = 0; k < nitems; k++) free(items[k].name);
    free(items);
    free(blob);
    free(entries);
    return rc;
}

static int pt_from_zip(const char *label, zip_t *z, size_t file_len, int index_only, adm_tensor_set *out) {
    /* Find <prefix>/data.pkl. */
    zip_int64_t nent = zip_get_num_entries(z, 0), pkl = -1;
    const char *pkl_name = NULL;
    for (zip_int64_t k = 0; k < nent; k++) {
        const char *nm = zip_get_name(z, (zip_uint64_t)k, 0);
        size_t l = nm ? strlen(nm) : 0;
        if (l >= 8 && strcmp(nm + l - 8, "data.pkl") == 0 && (l == 8 || nm[l - 9] == '/')) { pkl = k; pkl_name = nm; break; }
    }
    if (pkl < 0) return adm_error("%s: not a torch checkpoint (no data.pkl in the archive)", label);
    size_t plen = strlen(pkl_name) - 8;
    char prefix[512];
    if (plen >= sizeof prefix - 80) return adm_error("%s: archive prefix too long", label);
    memcpy(prefix, pkl_name, plen); prefix[plen] = 0;

    /* Newer torch records the byte order; we read little-endian only. */
    char path[600];
    snprintf(path, sizeof path, "%sbyteorder", prefix);
    zip_int64_t bo = zip_name_locate(z, path, 0);
    if (bo >= 0) {
        char order[16] = {0}; size_t bl;
        if (adm_zip_entry_size(label, z, bo, file_len, &bl) != 0) return -1;
        if (bl >= sizeof order || adm_zip_read_entry(label, z, bo, order, bl) != 0 || strcmp(order, "little") != 0)
            return adm_error("%s: only little-endian checkpoints are supported", label);
    }

    size_t pkl_len;
    if (adm_zip_entry_size(label, z, pkl, file_len, &pkl_len) != 0) return -1;
    uint8_t *pbytes = adm_malloc(pkl_len);
    if (!pbytes) return -1;
    if (adm_zip_read_entry(label, z, pkl, pbytes, pkl_len) != 0) { free(pbytes); return -1; }

    pk_state S = { .label = label, .p = pbytes, .len = pkl_len };
    pt_source src = { .label = label, .z = z, .prefix = prefix, .file_len = file_len, .index_only = index_only };
    int result = -1, rc = -1;
    if (pk_run(&S, &result) == 0) rc = pt_build(&S, result, &src, out);
    pk_free(&S);
    free(pbytes);
    return rc;
}

/* ---- the legacy (non-zip) format -------------------------------------- */

/* The first pickle of a legacy file: the magic number as a 10-byte LONG1. */
static const uint8_t pt_legacy_magic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};

static int pt_is_legacy(const uint8_t *buf, size_t len) {
    return len >= 2 + sizeof pt_legacy_magic && buf[0] == 0x80 && buf[1] <= 5 &&
           memcmp(buf + 2, pt_legacy_magic, sizeof pt_legacy_magic) == 0;
}

/* Run the pickle at buf[*pos..len) in a fresh state S; *pos moves past it. */
static int pt_legacy_pickle(const char *label, const uint8_t *buf, size_t len, size_t *pos, pk_state *S, int *result,
                            const char *what) {
    memset(S, 0, sizeof *S);
    S->label = label; S->p = buf + *pos; S->len = len - *pos;
    if (pk_run(S, result) != 0) return adm_error_prefix("legacy torch file, %s", what);
    *pos += S->pos;
    return 0;
}

/* Integer-valued entry `key` of dict di, or -1 when absent. */
static int pt_dict_get(const pk_state *S, int di, const char *key) {
    const pk_value *d = &S->v[di];
    for (int j = 0; j + 1 < d->n; j += 2)
        if (pk_str_eq(&S->v[d->items[j]], key)) return d->items[j + 1];
    return -1;
}

static int pt_from_legacy(const char *label, const uint8_t *buf, size_t len, int index_only, adm_tensor_set *out) {
    size_t pos = 2 + sizeof pt_legacy_magic;
    pk_state S = {0}, K = {0};
    int r, rc = -1;
    size_t *offs = NULL;

    /* 2: protocol version; 3: sys_info. */
    if (pt_legacy_pickle(label, buf, len, &pos, &S, &r, "protocol version") != 0) { pk_free(&S); return -1; }
    int ok = S.v[r].kind == PV_INT && S.v[r].i == 1001;
    pk_free(&S);
    if (!ok) return adm_error("%s: legacy torch file with an unknown protocol version (expected 1001)", label);
    if (pt_legacy_pickle(label, buf, len, &pos, &S, &r, "sys_info") != 0) { pk_free(&S); return -1; }
    int le = S.v[r].kind == PV_DICT ? pt_dict_get(&S, r, "little_endian") : -2;
    ok = le != -2 && (le < 0 || ((S.v[le].kind == PV_BOOL || S.v[le].kind == PV_INT) && S.v[le].i == 1));
    pk_free(&S);
    if (!ok) return adm_error("%s: legacy torch file not written little-endian (sys_info)", label);

    /* 4: the state dict; 5: the storage keys in file order. */
    int rkeys;
    if (pt_legacy_pickle(label, buf, len, &pos, &S, &r, "state dict") != 0) goto done;
    if (pt_legacy_pickle(label, buf, len, &pos, &K, &rkeys, "storage keys") != 0) goto done;
    if (K.v[rkeys].kind != PV_LIST && K.v[rkeys].kind != PV_TUPLE) {
        adm_error("%s: legacy torch file: the storage keys are not a list", label); goto done;
    }
    if (!(offs = adm_malloc((size_t)(S.nst ? S.nst : 1) * sizeof *offs))) goto done;
    for (int k = 0; k < S.nst; k++) offs[k] = SIZE_MAX;

    /* The storages: int64 numel, then numel * element-size bytes each. */
    const pk_value *keys = &K.v[rkeys];
    for (int j = 0; j < keys->n; j++) {
        const pk_value *key = &K.v[keys->items[j]];
        if (key->kind != PV_STR) { adm_error("%s: legacy torch file: a storage key is not a string", label); goto done; }
        int si = -1;
        for (int k = 0; k < S.nst; k++)
            if (S.st[k].keylen == key->slen && memcmp(S.st[k].key, key->s, key->slen) == 0) { si = k; break; }
        int kl = key->slen > 64 ? 64 : (int)key->slen;
        if (si < 0) { adm_error("%s: storage key %.*s is listed but no tensor uses it", label, kl, key->s); goto done; }
        if (offs[si] != SIZE_MAX) { adm_error("%s: storage %.*s is listed twice", label, kl, key->s); goto done; }
        if (len - pos < 8) { adm_error("%s: legacy torch file truncated before storage %.*s", label, kl, key->s); goto done; }
        uint64_t numel = pk_le(buf + pos, 8);
        pos += 8;
        if (numel != (uint64_t)S.st[si].numel) {
            adm_error("%s: storage %.*s holds %llu elements, the pickle claims %lld", label, kl, key->s,
                      (unsigned long long)numel, (long long)S.st[si].numel);
            goto done;
        }
        size_t need = (size_t)numel * adm_dtype_size(S.st[si].dtype);   /* numel <= 2^57: no overflow */
        if (need > len - pos) {
            adm_error("%s: legacy torch file truncated in storage %.*s (%zu of %zu bytes)", label, kl, key->s, len - pos, need);
            goto done;
        }
        offs[si] = pos;
        pos += need;
    }
    pt_source src = { .label = label, .buf = buf, .offs = offs, .index_only = index_only };
    rc = pt_build(&S, r, &src, out);
done:
    free(offs);
    pk_free(&S);
    pk_free(&K);
    return rc;
}

static int pt_zip_error(const char *label, int code) {
    zip_error_t e;
    zip_error_init_with_code(&e, code);
    adm_error("%s: not a readable zip archive (corrupt or truncated): %s", label, zip_error_strerror(&e));
    zip_error_fini(&e);
    return -1;
}

static int pt_mem(const char *label, const uint8_t *buf, size_t len, int index_only, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    if (len == 0) return adm_error("%s: empty file", label);
    if (pt_is_legacy(buf, len)) {
        int rc = pt_from_legacy(label, buf, len, index_only, out);
        if (rc != 0) adm_tensors_free(out);
        return rc;
    }
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &err);
    if (!src) { zip_error_fini(&err); return adm_error("%s: cannot open buffer", label); }
    zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) {
        int code = zip_error_code_zip(&err);
        zip_source_free(src);
        zip_error_fini(&err);
        return pt_zip_error(label, code);
    }
    zip_error_fini(&err);
    int rc = pt_from_zip(label, z, len, index_only, out);
    zip_discard(z);
    if (rc != 0) adm_tensors_free(out);
    return rc;
}

int adm_pt_load_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out) {
    return pt_mem(label, buf, len, 0, out);
}

/* Load or (index_only) index the checkpoint at path. */
static int pt_open(const char *path, int index_only, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    size_t size;
    if (adm_check_input_file(path, "a checkpoint", &size) != 0) return -1;
    uint8_t head[2 + sizeof pt_legacy_magic];
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (pt_is_legacy(head, got)) {          /* no archive: read the whole file */
        uint8_t *buf; size_t len;
        if (adm_read_file(path, &buf, &len) != 0) return -1;
        int rc = pt_mem(path, buf, len, index_only, out);
        free(buf);
        return rc;
    }
    if (got >= 2 && head[0] == 0x80)
        return adm_error("%s: a bare pickle, not a torch checkpoint (no zip archive, no legacy magic number)", path);
    int code = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!z) return pt_zip_error(path, code);
    int rc = pt_from_zip(path, z, size, index_only, out);
    zip_discard(z);
    if (rc != 0) adm_tensors_free(out);
    return rc;
}

int adm_pt_load(const char *path, adm_tensor_set *out) { return pt_open(path, 0, out); }
int adm_pt_index(const char *path, adm_tensor_set *out) { return pt_open(path, 1, out); }
