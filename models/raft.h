/* raft: what tests may look at inside a Raft node's state.
 *
 * The model itself is raft_model (models/registry.c lists it); nothing in
 * the engine includes this header. */
#ifndef MODELS_RAFT_H
#define MODELS_RAFT_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

extern const struct model raft_model;

/* A copy of the facts a test checks about one node. */
struct raft_info {
    const char *role;          /* "follower", "candidate", "leader" (static) */
    int64_t term;
    int voted_for;             /* node index, -1 if none */
    int leader;                /* node index, -1 if unknown */
    uint64_t commit;
    uint64_t applied;
    uint64_t last_index;
    int64_t last_term;
    uint64_t log_len;          /* entries held in memory (after the snapshot) */
    uint64_t snapshot_index;
    uint64_t duplicates;       /* entries skipped at apply: a retry already applied */
    uint64_t keys;             /* keys in the map */
};

/* Fill *out from a state returned by raft_model.init. */
void raft_inspect(const void *state, struct raft_info *out);

/* The map's value of key on that node; false if the key has none. */
bool raft_value(const void *state, const char *key, int64_t *value);

#endif
