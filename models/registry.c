/* The registry of every model: one static table, looked up by name.
 *
 * Adding a protocol means adding its struct model here and its source file
 * to models_src in meson.build; nothing in core/ names a protocol. */
#include <string.h>

#include "model.h"

extern const struct model pingpong_model;
extern const struct model leader_follower_model;
extern const struct model multi_leader_model;
extern const struct model quorum_model;
extern const struct model raft_model;
extern const struct model paxos_model;
extern const struct model multipaxos_model;
extern const struct model twopc_model;
extern const struct model saga_model;
extern const struct model lock_model;
extern const struct model cache_model;
extern const struct model hashring_model;
extern const struct model resilience_model;
extern const struct model eventlog_model;

/* In the order `sim list` shows them: teaching order, simplest first. */
static const struct model *const registry[] = {
    &pingpong_model,
    &leader_follower_model,
    &multi_leader_model,
    &quorum_model,
    &raft_model,
    &paxos_model,
    &multipaxos_model,
    &twopc_model,
    &saga_model,
    &lock_model,
    &cache_model,
    &hashring_model,
    &resilience_model,
    &eventlog_model,
    NULL,
};

/* The model called name, or NULL if there is none. The result is static. */
const struct model *model_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

/* Every model, NULL-terminated, in registry order. The array is static. */
const struct model *const *model_all(void)
{
    return registry;
}
