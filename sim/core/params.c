/* Typed model parameters.
 *
 * A params set keeps a pointer to the model's declaration table (static in
 * the model, so it outlives every params) and one value per declared entry,
 * in declaration order. Enum choices are split once, at params_new, so
 * params_enum can hand out a NUL-terminated choice without allocating. */
#include "params.h"
#include "alloc.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct value {
    int64_t i;        /* PARAM_INT, PARAM_TIME (ns) */
    double num;       /* PARAM_NUM */
    bool b;           /* PARAM_BOOL */
    size_t choice;    /* PARAM_ENUM: index into choices */
    char **choices;   /* PARAM_ENUM: the split choices, owned */
    size_t n_choices, choices_cap;
    char *str;        /* PARAM_STR, owned */
};

struct params {
    char *model;                      /* owned copy of the model name */
    const struct model_param *decl;   /* the model's table, not owned */
    size_t n;
    struct value *values;             /* n values, in declaration order */
};

/* ---- errors ------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The "must be ..." part of a type error, without the value received. */
static const char *expected(const struct model_param *d)
{
    switch (d->type) {
    case PARAM_INT: return "an integer";
    case PARAM_BOOL: return "true or false";
    case PARAM_TIME: return "a time such as 50ms";
    case PARAM_NUM: return "a number";
    case PARAM_FUNC: return "a Lua function, given in the scenario's cluster{params = ...}";
    case PARAM_STR: return "a string";
    case PARAM_ENUM: return NULL;  /* "one of a|b|c", written by the caller */
    }
    return "?";
}

/* err = `parameter "name" must be <what the type wants>, got <got>`. */
static int type_error(const struct model_param *d, char *err, size_t errlen, const char *got)
{
    if (d->type == PARAM_ENUM)
        return fail(err, errlen, "parameter \"%s\" must be one of %s, got %s", d->name,
                    d->choices ? d->choices : "", got);
    return fail(err, errlen, "parameter \"%s\" must be %s, got %s", d->name, expected(d), got);
}

/* Look a parameter up by name; on failure write the unknown-parameter
 * message, listing what the model declares. */
static long lookup(const params *p, const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->decl[i].name, name) == 0)
            return (long)i;
    if (p->n == 0) {
        fail(err, errlen, "unknown parameter \"%s\" for model \"%s\" (it has no parameters)",
             name, p->model);
    } else {
        char names[512];
        params_names(p->decl, names, sizeof names);
        fail(err, errlen, "unknown parameter \"%s\" for model \"%s\" (parameters: %s)", name,
             p->model, names);
    }
    return -1;
}

/* ---- parsing ------------------------------------------------------------ */

/* A decimal integer with an optional minus sign and nothing else around it. */
static int parse_int(const char *text, int64_t *out)
{
    const char *s = text;
    if (*s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* A finite real number with nothing around it. */
static int parse_num(const char *text, double *out)
{
    if (*text == '\0' || isspace((unsigned char)*text))
        return -1;
    char *end;
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *text, bool *out)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0) {
        *out = false;
        return 0;
    }
    return -1;
}

/* Parse "<digits>[.<digits>]<unit>" exactly, in integers: the text must name
 * a whole number of nanoseconds no larger than INT64_MAX. A bare number is
 * nanoseconds. Returns 0, or -1 with *out untouched. */
int params_parse_time(const char *text, sim_time *out)
{
    static const struct { const char *name; int digits; } units[] = {
        { "ns", 0 }, { "us", 3 }, { "ms", 6 }, { "s", 9 }, { "", 0 },
    };
    const char *s = text;
    uint64_t whole = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    for (; isdigit((unsigned char)*s); s++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return -1;
        whole = whole * 10 + (uint64_t)(*s - '0');
    }
    const char *frac = NULL;
    size_t frac_len = 0;
    if (*s == '.') {
        frac = ++s;
        while (isdigit((unsigned char)*s))
            s++;
        frac_len = (size_t)(s - frac);
        if (frac_len == 0)
            return -1;
        while (frac_len > 0 && frac[frac_len - 1] == '0')
            frac_len--;   /* 1.50s is 1.5s */
    }
    int digits = -1;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (strcmp(s, units[u].name) == 0) {
            digits = units[u].digits;
            break;
        }
    if (digits < 0 || frac_len > (size_t)digits)
        return -1;   /* unknown unit, or a fraction of a nanosecond */
    uint64_t scale = 1;
    for (int d = 0; d < digits; d++)
        scale *= 10;
    if (whole > (uint64_t)INT64_MAX / scale)
        return -1;
    uint64_t ns = whole * scale;
    uint64_t part = 0;
    for (size_t d = 0; d < frac_len; d++)
        part = part * 10 + (uint64_t)(frac[d] - '0');
    for (size_t d = frac_len; d < (size_t)digits; d++)
        part *= 10;
    if (part > (uint64_t)INT64_MAX - ns)
        return -1;
    *out = (sim_time)(ns + part);
    return 0;
}

/* ---- the set ------------------------------------------------------------ */

static void free_values(params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        for (size_t c = 0; c < p->values[i].n_choices; c++)
            sim_free(p->values[i].choices[c]);
        sim_free(p->values[i].choices);
        sim_free(p->values[i].str);
    }
    sim_free(p->values);
}

/* Split "a|b|c" into v->choices. An empty choice is refused. */
static int split_choices(struct value *v, const char *choices)
{
    const char *start = choices;
    for (;;) {
        const char *bar = strchr(start, '|');
        size_t len = bar ? (size_t)(bar - start) : strlen(start);
        if (len == 0)
            return -1;
        char *c = sim_xmalloc(len + 1);
        memcpy(c, start, len);
        c[len] = '\0';
        SIM_GROW(v->choices, v->choices_cap, v->n_choices + 1);
        v->choices[v->n_choices++] = c;
        if (!bar)
            return 0;
        start = bar + 1;
    }
}

/* A parameter set for model_name with every declared value at its default
 * (a NULL default means 0, false, 0ns or the first choice). decl (ended by
 * an entry whose name is NULL; NULL means no parameters) is kept by pointer
 * and must outlive the set; model_name is copied. Returns NULL with err
 * filled when the declaration is broken: a default that does not parse, an
 * enum without choices, a name declared twice. Free with params_free. */
params *params_new(const char *model_name, const struct model_param *decl, char *err, size_t errlen)
{
    static const struct model_param none[] = { { NULL, PARAM_INT, NULL, NULL, NULL } };
    char why[256];
    params *p = sim_xcalloc(1, sizeof *p);
    p->model = sim_xstrdup(model_name ? model_name : "");
    p->decl = decl ? decl : none;
    while (p->decl[p->n].name)
        p->n++;
    p->values = sim_xcalloc(p->n ? p->n : 1, sizeof *p->values);
    for (size_t i = 0; i < p->n; i++) {
        const struct model_param *d = &p->decl[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->decl[j].name, d->name) == 0) {
                fail(err, errlen, "model \"%s\" declares parameter \"%s\" twice", p->model,
                     d->name);
                goto fail;
            }
        if (d->type == PARAM_ENUM &&
            (!d->choices || split_choices(&p->values[i], d->choices) != 0)) {
            fail(err, errlen, "model \"%s\" declares enum parameter \"%s\" with bad choices \"%s\"",
                 p->model, d->name, d->choices ? d->choices : "");
            goto fail;
        }
        if (d->def && d->type != PARAM_FUNC && params_set_text(p, d->name, d->def, why, sizeof why) != 0) {
            fail(err, errlen, "model \"%s\" has a bad default: %s", p->model, why);
            goto fail;
        }
    }
    return p;
fail:
    params_free(p);
    return NULL;
}

/* Free the set. NULL is accepted. */
void params_free(params *p)
{
    if (!p)
        return;
    free_values(p);
    sim_free(p->model);
    sim_free(p);
}

/* The declaration of name, or NULL if the model has no such parameter. */
const struct model_param *params_decl(const params *p, const char *name)
{
    long i = lookup(p, name, NULL, 0);
    return i < 0 ? NULL : &p->decl[i];
}

/* ---- setters ------------------------------------------------------------ */

static int set_choice(params *p, size_t i, const char *text, char *err, size_t errlen)
{
    struct value *v = &p->values[i];
    for (size_t c = 0; c < v->n_choices; c++)
        if (strcmp(v->choices[c], text) == 0) {
            v->choice = c;
            return 0;
        }
    char got[160];
    snprintf(got, sizeof got, "\"%s\"", text);
    return type_error(&p->decl[i], err, errlen, got);
}

/* Set name from its text form (the command line's --param name=text): an
 * integer, true/false (or 1/0), a time ("250ms", "2s", a bare number of
 * ns), one of the enum's choices, or a real number. 0, or -1 with one line
 * in err and the value unchanged. */
int params_set_text(params *p, const char *name, const char *text, char *err, size_t errlen)
{
    long i = lookup(p, name, err, errlen);
    if (i < 0)
        return -1;
    const struct model_param *d = &p->decl[i];
    struct value *v = &p->values[i];
    char got[160];
    snprintf(got, sizeof got, "\"%s\"", text);
    switch (d->type) {
    case PARAM_INT:
        if (parse_int(text, &v->i) != 0)
            return type_error(d, err, errlen, got);
        return 0;
    case PARAM_BOOL:
        if (parse_bool(text, &v->b) != 0)
            return type_error(d, err, errlen, got);
        return 0;
    case PARAM_TIME:
        if (params_parse_time(text, &v->i) != 0)
            return type_error(d, err, errlen, got);
        return 0;
    case PARAM_NUM:
        if (parse_num(text, &v->num) != 0)
            return type_error(d, err, errlen, got);
        return 0;
    case PARAM_ENUM:
        return set_choice(p, (size_t)i, text, err, errlen);
    case PARAM_STR:
        sim_free(v->str);
        v->str = sim_xstrdup(text);
        return 0;
    case PARAM_FUNC:
        break;
    }
    return type_error(d, err, errlen, got);
}

/* Set name from an integer (a Lua integer). INT takes it as is, TIME as
 * nanoseconds (not negative), NUM as a real number; BOOL and ENUM refuse. */
int params_set_int(params *p, const char *name, int64_t v, char *err, size_t errlen)
{
    long i = lookup(p, name, err, errlen);
    if (i < 0)
        return -1;
    const struct model_param *d = &p->decl[i];
    char got[32];
    snprintf(got, sizeof got, "%" PRId64, v);
    switch (d->type) {
    case PARAM_INT:
        p->values[i].i = v;
        return 0;
    case PARAM_TIME:
        if (v < 0)
            return fail(err, errlen, "parameter \"%s\" must not be negative, got %s", d->name, got);
        p->values[i].i = v;
        return 0;
    case PARAM_NUM:
        p->values[i].num = (double)v;
        return 0;
    case PARAM_BOOL:
    case PARAM_ENUM:
    case PARAM_STR:
    case PARAM_FUNC:
        break;
    }
    return type_error(d, err, errlen, got);
}

/* Set name from a real number (a Lua float). NUM takes any finite value;
 * INT and TIME (ns) take it only if it is a whole number in range, so
 * 1e9 works and 1.5 does not; BOOL and ENUM refuse. */
int params_set_num(params *p, const char *name, double v, char *err, size_t errlen)
{
    long i = lookup(p, name, err, errlen);
    if (i < 0)
        return -1;
    const struct model_param *d = &p->decl[i];
    char got[40];
    snprintf(got, sizeof got, "%.17g", v);
    switch (d->type) {
    case PARAM_NUM:
        if (!isfinite(v))
            return fail(err, errlen, "parameter \"%s\" must be a finite number, got %s", d->name, got);
        p->values[i].num = v;
        return 0;
    case PARAM_INT:
    case PARAM_TIME:
        /* -2^63 <= v < 2^63, and whole: then the conversion is exact. */
        if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0) || v != floor(v)) {
            if (d->type == PARAM_TIME)
                return fail(err, errlen, "parameter \"%s\" must be a whole number of ns or a time "
                            "such as 50ms, got %s", d->name, got);
            return fail(err, errlen, "parameter \"%s\" must be an integer, got %s", d->name, got);
        }
        return params_set_int(p, name, (int64_t)v, err, errlen);
    case PARAM_BOOL:
    case PARAM_ENUM:
    case PARAM_STR:
    case PARAM_FUNC:
        break;
    }
    return type_error(d, err, errlen, got);
}

/* Set name from a boolean; only BOOL takes it. */
int params_set_bool(params *p, const char *name, bool v, char *err, size_t errlen)
{
    long i = lookup(p, name, err, errlen);
    if (i < 0)
        return -1;
    const struct model_param *d = &p->decl[i];
    if (d->type != PARAM_BOOL)
        return type_error(d, err, errlen, v ? "true" : "false");
    p->values[i].b = v;
    return 0;
}

/* Set name from a string (a Lua string): ENUM takes one of its choices,
 * TIME a time in text form ("50ms"); INT, NUM and BOOL refuse strings, so a
 * quoted number in a scenario is reported rather than guessed at. */
int params_set_string(params *p, const char *name, const char *v, char *err, size_t errlen)
{
    long i = lookup(p, name, err, errlen);
    if (i < 0)
        return -1;
    const struct model_param *d = &p->decl[i];
    char got[160];
    switch (d->type) {
    case PARAM_ENUM:
    case PARAM_TIME:
    case PARAM_STR:
        return params_set_text(p, name, v, err, errlen);
    case PARAM_INT:
    case PARAM_NUM:
    case PARAM_BOOL:
    case PARAM_FUNC:
        break;
    }
    snprintf(got, sizeof got, "the string \"%s\"", v);
    return type_error(d, err, errlen, got);
}

/* Mark a function parameter as given; only FUNC takes it. */
int params_set_func(params *p, const char *name, char *err, size_t errlen)
{
    long i = lookup(p, name, err, errlen);
    if (i < 0)
        return -1;
    const struct model_param *d = &p->decl[i];
    if (d->type != PARAM_FUNC)
        return type_error(d, err, errlen, "a function");
    p->values[i].b = true;
    return 0;
}

/* ---- getters ------------------------------------------------------------ */

static const struct value *get(const params *p, const char *name, enum param_type type)
{
    long i = lookup(p, name, NULL, 0);
    assert(i >= 0 && "no such parameter");
    assert(p->decl[i].type == type && "parameter read with the wrong type");
    (void)type;
    return &p->values[i];
}

int64_t params_int(const params *p, const char *name)
{
    return get(p, name, PARAM_INT)->i;
}

bool params_bool(const params *p, const char *name)
{
    return get(p, name, PARAM_BOOL)->b;
}

sim_time params_time(const params *p, const char *name)
{
    return get(p, name, PARAM_TIME)->i;
}

double params_num(const params *p, const char *name)
{
    return get(p, name, PARAM_NUM)->num;
}

/* The chosen value of an enum, owned by the set. */
const char *params_enum(const params *p, const char *name)
{
    const struct value *v = get(p, name, PARAM_ENUM);
    return v->choices[v->choice];
}

const char *params_str(const params *p, const char *name)
{
    const char *s = get(p, name, PARAM_STR)->str;
    return s ? s : "";
}

/* Whether enum name is set to choice. choice must be one of the declared
 * choices (asserted), so a misspelt choice in a model is caught at once
 * instead of quietly comparing false. */
bool params_is(const params *p, const char *name, const char *choice)
{
    const struct value *v = get(p, name, PARAM_ENUM);
    bool known = false;
    for (size_t c = 0; c < v->n_choices; c++)
        if (strcmp(v->choices[c], choice) == 0)
            known = true;
    assert(known && "params_is: not one of the declared choices");
    (void)known;
    return strcmp(v->choices[v->choice], choice) == 0;
}

bool params_has_func(const params *p, const char *name)
{
    return get(p, name, PARAM_FUNC)->b;
}

/* ---- output ------------------------------------------------------------- */

/* Write "name": value for every parameter, in declaration order, into the
 * object open in w: integers and times (ns) as JSON integers, booleans,
 * enums as strings, real numbers as numbers, functions as "<lua function>"
 * (null when not given). */
void params_write(const params *p, jw *w)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct model_param *d = &p->decl[i];
        const struct value *v = &p->values[i];
        jw_key(w, d->name);
        switch (d->type) {
        case PARAM_INT:
        case PARAM_TIME:
            jw_int(w, v->i);
            break;
        case PARAM_BOOL:
            jw_bool(w, v->b);
            break;
        case PARAM_NUM:
            jw_num(w, v->num);
            break;
        case PARAM_ENUM:
            jw_str(w, v->choices[v->choice]);
            break;
        case PARAM_STR:
            jw_str(w, v->str ? v->str : "");
            break;
        case PARAM_FUNC:
            if (v->b)
                jw_str(w, "<lua function>");
            else
                jw_null(w);
            break;
        }
    }
}

/* Write "name1, name2, ..." into out (always NUL-terminated when outlen > 0;
 * cut short if it does not fit). decl may be NULL. */
void params_names(const struct model_param *decl, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; decl && decl[i].name; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", decl[i].name);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
}
