/* Version vectors: one counter per node, to tell "happened before" from
 * "concurrent" between two versions of a value.
 *
 * A version's vector counts, per node, the writes that node coordinated and
 * that the version has seen. a descends from b when every counter of a is
 * at least b's; neither descending from the other means the two versions
 * were written concurrently (a conflict: siblings, a merge, a resolver).
 *
 * Fixed size, so a vector can sit in a message, a store value or a client's
 * causal context (it fits SIM_CTX_MAX) as plain bytes. Models that use
 * vectors refuse clusters of more than VV_MAX nodes in their validate. */
#ifndef SIM_VV_H
#define SIM_VV_H

#include <stdbool.h>
#include <stdint.h>

#include "jw.h"

#define VV_MAX 32

struct vv {
    uint32_t n;              /* nodes counted: entries c[0..n-1] are used */
    uint32_t pad;
    uint64_t c[VV_MAX];
};

enum vv_order {
    VV_EQUAL,        /* the same history */
    VV_BEFORE,       /* a happened before b (b descends from a) */
    VV_AFTER,        /* a descends from b */
    VV_CONCURRENT,   /* neither: a conflict */
};

/* All zero, counting n nodes (n <= VV_MAX, clamped). */
void vv_init(struct vv *v, int n);
/* One more write coordinated by node. */
void vv_tick(struct vv *v, int node);
/* into = the pointwise maximum of into and other: a version that has seen both. */
void vv_merge(struct vv *into, const struct vv *other);
enum vv_order vv_compare(const struct vv *a, const struct vv *b);
/* a has seen everything b has (VV_EQUAL or VV_AFTER). */
bool vv_descends(const struct vv *a, const struct vv *b);
/* Is the byte image of len bytes a well-formed vector (from a message)? */
bool vv_valid(const void *bytes, size_t len);
/* Write the vector as a JSON array of its n counters. */
void vv_write(const struct vv *v, jw *w);
/* "[1,0,2]" into buf (cut short if it does not fit). */
const char *vv_format(const struct vv *v, char *buf, size_t n);

#endif
