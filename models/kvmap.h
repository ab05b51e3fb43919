/* kvmap: the key-value state machine the replicated models keep (a map
 * from short string keys to int64 values), as one array sorted by key.
 *
 * The entries are plain bytes (a fixed-size key and a value), so a model
 * can copy the array into its durable store or a snapshot message as is.
 * A model owns the array and its count and capacity; these functions only
 * search and insert. Keys must be shorter than KVMAP_KEY_MAX (models refuse
 * longer keys when the client operation arrives). */
#ifndef SIM_KVMAP_H
#define SIM_KVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVMAP_KEY_MAX 48   /* key bytes including the NUL */

struct kv_entry {
    char key[KVMAP_KEY_MAX];
    int64_t value;
};

/* Index of key in kv[0..n), or (as ~pos) where it would be inserted. */
ptrdiff_t kvmap_find(const struct kv_entry *kv, size_t n, const char *key);
/* The value of key into *value; false if the key is absent. */
bool kvmap_get(const struct kv_entry *kv, size_t n, const char *key, int64_t *value);
/* Set key to value, inserting it in order (growing *kv) if absent. */
void kvmap_set(struct kv_entry **kv, size_t *n, size_t *cap, const char *key, int64_t value);

/* The same search and insertion for sorted arrays of other entry types,
 * whose first member is the key as a char array (check with offsetof):
 * stride is the entry's size. kvmap_find_in returns what kvmap_find does;
 * kvmap_insert_in opens a zeroed entry at pos (the ~ of a failed find),
 * copies key into it (at most key_max - 1 bytes) and returns the array,
 * which may have moved: s->e = kvmap_insert_in(s->e, &s->n, &s->cap, ...). */
ptrdiff_t kvmap_find_in(const void *entries, size_t n, size_t stride, const char *key);
void *kvmap_insert_in(void *entries, size_t *n, size_t *cap, size_t stride, size_t pos,
                      const char *key, size_t key_max);

#endif
