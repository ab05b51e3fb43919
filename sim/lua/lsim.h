/* lsim: the scenario API (cluster, workload, faults, at/every, run, expect)
 * and the driver that runs one scenario file in a sandbox against a world.
 * The API is documented for users in docs/lua-api.md. */
#ifndef SIM_LSIM_H
#define SIM_LSIM_H

#include "sandbox.h"
#include "world.h"

struct trace;

struct lsim_param {
    const char *name;
    const char *value;
    bool used;            /* set by lsim when a model parameter or param() read it */
};

struct lsim_options {
    const char *scenario;         /* path of the Lua file */
    uint64_t seed;
    struct trace *trace;          /* may be NULL: tracing off */
    struct lsim_param *params;    /* --param name=value overrides */
    int n_params;
    struct sandbox_limits limits;
    uint64_t max_events;          /* 0 = default */
    bool keep_going;              /* run on past a broken model invariant */
    bool swarm;                   /* draw nemesis and network settings from the seed */
    bool quiet;                   /* print() and log() do not echo to stderr */
    world_progress_fn progress;   /* optional: called every 2^20 events */
    void *progress_ud;
    /* Checker names expect{} accepts (NULL-terminated; NULL = none): a
     * boolean expectation per checker, and pacelc = "PA/EL" when "cap" is
     * among them. lsim only records them; see struct lsim_expect. */
    const char *const *checkers;
};

#define LSIM_MAX_EXPECT 64

/* One expectation. A count (ops_ok = {min = 100}) is decided when expect{}
 * is called, and written into the trace. A checker expectation
 * (linearizable = false, pacelc = "PA/EL") can only be decided on the whole
 * trace: lsim records it with `checker` set, held false and detail empty,
 * and the caller runs the checker after the run and fills held and detail
 * (sim run does, in cmd_run.c). It never appears in the trace. */
struct lsim_expect {
    char name[64];
    bool held;
    char detail[1280];  /* "ops_ok = 120, expected at least 100" */
    bool checker;       /* decided after the run by the checker named below */
    char checker_name[64];  /* name, or "cap" for pacelc */
    bool want;          /* a checker's verdict: true = holds, false = violated */
    char want_label[16];    /* pacelc: the label wanted, e.g. "PA/EL" */
    char where[160];    /* "scenario.lua:12": the expect{} call */
};

struct lsim_result {
    int exit_code;                 /* SIM_EXIT_OK, _FAILED (a count expectation; checker
                                    * expectations are the caller's), _SCENARIO, _IO */
    char error[1024];              /* one line when exit_code is an error */
    struct world_stats stats;
    sim_time end_time;             /* virtual time when the script ended */
    char model[64];
    int nodes;
    int clients;
    int n_expect;
    struct lsim_expect expect[LSIM_MAX_EXPECT];
    int n_checker_expect;          /* of those, expectations left for checkers */
    uint64_t lua_instructions;
    bool halted;                   /* a model invariant broke and stopped the run */
    sim_time halted_at;
    char halt_report[4096];        /* its sentence, then the last node events */
    char swarm_json[512];          /* with opt->swarm: the drawn configuration, a JSON object */
};

/* Run the scenario: load it in a sandbox, execute it (run() inside it drives
 * the world), evaluate expect{} calls, write the final states. Always fills
 * *res; returns res->exit_code. The trace header is the caller's job; lsim
 * writes everything after it. */
int lsim_run(const struct lsim_options *opt, struct lsim_result *res);

#endif
