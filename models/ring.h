/* A consistent-hash ring with virtual nodes: where a key's replicas live.
 *
 * Every node owns `vnodes` points on a 64-bit circle. Point i of node k sits
 * at ring_mix64(((k + 1) << 32) | i): it depends only on (k, i), so adding
 * node N leaves every existing point where it was and only the keys whose
 * clockwise successor becomes one of N's points move (about 1/(N+1) of
 * them), where "hash mod nodes" placement moves almost every key.
 *
 * A key sits at ring_key_hash(key): 64-bit FNV-1a over its bytes, then the
 * same mixer. Its owner is the node of the first point clockwise from it
 * (a point at exactly the key's position counts); its preference list is
 * the first n distinct nodes met walking clockwise from there. Nothing here
 * is seeded: the same (nodes, vnodes) gives the same ring in every process.
 * Ties between points at the same position are broken by (node, index).
 *
 * The ring owns its memory: ring_new allocates, ring_free releases. */
#ifndef SIM_RING_H
#define SIM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ring ring;

/* A ring of n_nodes nodes (indexes 0..n_nodes-1), vnodes points each.
 * Returns NULL when n_nodes < 1 or vnodes < 1. */
ring *ring_new(int n_nodes, int vnodes);
void ring_free(ring *r);

int ring_nodes(const ring *r);
int ring_vnodes(const ring *r);

/* The 64-bit finaliser of SplitMix64: a bijection that spreads every input
 * bit over the whole word. */
uint64_t ring_mix64(uint64_t x);
/* A key's position: 64-bit FNV-1a over its bytes (offset basis
 * 14695981039346656037, prime 1099511628211), then ring_mix64. */
uint64_t ring_key_hash(const char *key);

/* The node that owns key: the first point clockwise from its position. */
int ring_owner(const ring *r, const char *key);

/* Walk clockwise from key's position and write into out the first distinct
 * nodes met, at most max, leaving out every node whose skip[node] is true
 * (skip may be NULL). Returns how many were written. With max = n and no
 * skip this is the key's preference list; with max = ring_nodes it is the
 * whole ring in the key's order (the first n the home replicas, the rest
 * the fallbacks a sloppy quorum uses). */
int ring_preference_list(const ring *r, const char *key, int max, const bool *skip, int *out);

/* How many of keys[0..n_keys-1] have a different owner on ring a than on
 * ring b (say before and after adding a node). */
size_t ring_keys_moved(const ring *a, const ring *b, const char *const *keys, size_t n_keys);

#endif
