/* A node's durable store: string keys to byte values, kept in key order.
 *
 * Writes are pending until store_sync; a crash keeps what was synced and
 * loses the rest (store_crash). Iteration is in key order, never in hash or
 * pointer order. Values are copied in and owned by the store. */
#ifndef SIM_STORE_H
#define SIM_STORE_H

#include <stddef.h>

typedef struct store store;

store *store_new(void);
void store_free(store *s);

void store_put(store *s, const char *key, const void *val, size_t len);
void store_del(store *s, const char *key);
/* The latest value (synced or not), or NULL; valid until the next change. */
const void *store_get(const store *s, const char *key, size_t *len);

void store_sync(store *s);    /* make every pending write durable */
void store_crash(store *s);   /* forget every write not yet synced */
size_t store_pending(const store *s);

/* Visit keys starting with prefix, in key order. fn returns nonzero to stop. */
typedef int (*store_visit_fn)(void *arg, const char *key, const void *val, size_t len);
void store_scan(const store *s, const char *prefix, store_visit_fn fn, void *arg);
size_t store_count(const store *s);

#endif
