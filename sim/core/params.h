/* Typed parameters of a model: declared by the model, set by the scenario
 * (cluster{params=...}) and the command line (--param), read by the model.
 * Values are kept in declaration order, so the trace lists them in a stable
 * order. */
#ifndef SIM_PARAMS_H
#define SIM_PARAMS_H

#include "simtypes.h"
#include "jw.h"

enum param_type {
    PARAM_INT,   /* integer */
    PARAM_BOOL,  /* true / false */
    PARAM_TIME,  /* virtual time in ns; text form accepts 250ms, 2s, 10us, 5ns */
    PARAM_ENUM,  /* one of choices, "a|b|c" */
    PARAM_NUM,   /* real number */
    PARAM_STR,   /* free text the model parses itself (say a saga's steps);
                  * the model's validate reports what is wrong with it */
    PARAM_FUNC,  /* a Lua function from the scenario (cluster{params=...}); no
                  * text form, no default; the model calls it with node_call */
};

struct model_param {
    const char *name;
    enum param_type type;
    const char *def;      /* default, in text form */
    const char *choices;  /* PARAM_ENUM: "a|b|c" */
    const char *help;     /* one line for `sim list` */
};

typedef struct params params;

/* A parameter set with every declared value at its default. decl ends with
 * an entry whose name is NULL. Returns NULL (err filled) if a default does
 * not parse, which is a bug in the model. */
params *params_new(const char *model_name, const struct model_param *decl, char *err, size_t errlen);
void params_free(params *p);

const struct model_param *params_decl(const params *p, const char *name);

/* Set a value from text (command line). 0, or -1 with one line in err. */
int params_set_text(params *p, const char *name, const char *text, char *err, size_t errlen);
/* Typed setters (scenario); -1 with err when the name or the type is wrong. */
int params_set_int(params *p, const char *name, int64_t v, char *err, size_t errlen);
int params_set_num(params *p, const char *name, double v, char *err, size_t errlen);
int params_set_bool(params *p, const char *name, bool v, char *err, size_t errlen);
int params_set_string(params *p, const char *name, const char *v, char *err, size_t errlen);
/* Mark a PARAM_FUNC parameter as given (the scenario keeps the function);
 * -1 with err when the name is unknown or not a function parameter. */
int params_set_func(params *p, const char *name, char *err, size_t errlen);

/* Getters; name must be declared with that type (asserted). */
int64_t params_int(const params *p, const char *name);
bool params_bool(const params *p, const char *name);
sim_time params_time(const params *p, const char *name);
double params_num(const params *p, const char *name);
const char *params_enum(const params *p, const char *name);
const char *params_str(const params *p, const char *name);   /* PARAM_STR, owned by the set */
bool params_is(const params *p, const char *name, const char *choice);
/* Whether the scenario gave a function for PARAM_FUNC parameter name. */
bool params_has_func(const params *p, const char *name);

/* Write every value as one JSON object member per parameter. */
void params_write(const params *p, jw *w);

/* "name1, name2, ..." of a declaration list, for error messages. */
void params_names(const struct model_param *decl, char *out, size_t outlen);

/* Parse "250ms", "2s", "1.5s", "10us", "42ns" or a bare integer of ns. */
int params_parse_time(const char *text, sim_time *out);

#endif
