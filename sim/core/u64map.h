/* u64map: an open-addressing hash map from 64-bit keys to 32-bit values.
 *
 * For lookups only: it offers no iteration, so no result of the simulator
 * can depend on the order of its slots (determinism: DESIGN.md). Keys are
 * any uint64_t; values any uint32_t. Linear probing over a power-of-two
 * table kept at most half full; no deletion (callers clear the whole map). */
#ifndef SIM_U64MAP_H
#define SIM_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
    uint64_t *keys;
    uint32_t *vals;
    unsigned char *used;
    size_t cap;      /* slots, a power of two, or 0 before the first put */
    size_t count;
};

/* Zero-initialise (`struct u64map m = {0};`) before first use. */
void u64map_free(struct u64map *m);
void u64map_clear(struct u64map *m);   /* forget every key, keep the memory */

/* Set key's value (insert or overwrite). Allocation failure exits. */
void u64map_put(struct u64map *m, uint64_t key, uint32_t val);

/* key's value into *val (if val is not NULL); false when absent. */
bool u64map_get(const struct u64map *m, uint64_t key, uint32_t *val);

#endif
