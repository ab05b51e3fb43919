/* sweep_summary: the summary of a sweep and its JUnit XML, from result lines. */
#include "sweep_summary.h"
#include "sweep_run.h"
#include "cli.h"
#include "core/alloc.h"
#include "trace/jread.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_SEEDS 10     /* seeds listed per kind */
#define SUMMARY_REPLAYS 3    /* replay commands shown per kind */

struct kind {
    char *name;
    uint64_t count;
    uint64_t seeds[SUMMARY_SEEDS];
    char *replay[SUMMARY_REPLAYS];
};

/* One JUnit test case, kept until the document is written. */
struct testcase {
    uint64_t seed;
    double wall;
    char *kind;      /* NULL = passed */
    char *body;      /* replay command and why */
    bool error;      /* could not run (as opposed to failed) */
};

struct sweep_summary {
    char *scenario;
    char *seeds;         /* "A..B" */
    char *shard;         /* "K/N" or NULL */
    char *params;        /* " --param k=v ..." or "" */
    bool swarm;
    double check_determinism;
    uint64_t expected;
    uint64_t done, passed, failed, checked, nondeterministic;
    bool stopped;
    uint64_t stopped_seed;
    double wall_sum;
    struct kind *kinds;
    size_t n_kinds, cap_kinds;
    bool junit;
    struct testcase *cases;
    size_t n_cases, cap_cases;
};

/* ---- reading lines ---------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    return jr_str(o, key, NULL);
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static uint64_t jseed(const cJSON *o)
{
    uint64_t seed = 0;
    const char *s = jstr(o, "seed");
    if (!s || !cli_parse_u64(s, &seed))
        seed = 0;
    return seed;
}

/* Seeds in "A..B" (whole range), or in shard "K/N" of it. */
static uint64_t range_count(const char *seeds, const char *shard)
{
    uint64_t a, b, k = 1, n = 1;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", seeds ? seeds : "");
    char *dots = strstr(buf, "..");
    if (!dots)
        return 0;
    *dots = 0;
    if (!cli_parse_u64(buf, &a) || !cli_parse_u64(dots + 2, &b) || b < a)
        return 0;
    if (shard) {
        snprintf(buf, sizeof buf, "%s", shard);
        char *slash = strchr(buf, '/');
        if (!slash)
            return 0;
        *slash = 0;
        if (!cli_parse_u64(buf, &k) || !cli_parse_u64(slash + 1, &n) || n == 0 || k == 0 || k > n)
            return 0;
    }
    uint64_t span = b - a;   /* seeds - 1 */
    if (k - 1 > span)
        return 0;
    return (span - (k - 1)) / n + 1;
}

sweep_summary *sweep_summary_new(const cJSON *header, bool junit)
{
    sweep_summary *s = sim_xcalloc(1, sizeof *s);
    const char *scenario = jstr(header, "scenario");
    s->scenario = sim_xstrdup(scenario ? scenario : "?");
    const char *seeds = jstr(header, "seeds");
    s->seeds = sim_xstrdup(seeds ? seeds : "?");
    const char *shard = jstr(header, "shard");
    s->shard = shard ? sim_xstrdup(shard) : NULL;
    s->swarm = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(header, "swarm"));
    s->check_determinism = jnum(header, "check_determinism");
    s->expected = range_count(seeds, shard);
    char *p = NULL;
    size_t cap = 0;
    SIM_GROW(p, cap, 1);
    p[0] = 0;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(header, "params");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, params) {
        if (!cJSON_IsString(kv) || !kv->string)
            continue;
        size_t len = strlen(p);
        SIM_GROW(p, cap, len + 10);
        strcpy(p + len, " --param ");
        char *word = NULL;
        size_t wcap = 0;
        char *pair = sim_xmalloc(strlen(kv->string) + strlen(kv->valuestring) + 2);
        sprintf(pair, "%s=%s", kv->string, kv->valuestring);
        sweep_shell_word(&word, &wcap, pair);
        len = strlen(p);
        SIM_GROW(p, cap, len + strlen(word) + 1);
        strcpy(p + len, word);
        sim_free(pair);
        sim_free(word);
    }
    s->params = p;
    s->junit = junit;
    return s;
}

void sweep_summary_free(sweep_summary *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_kinds; i++) {
        sim_free(s->kinds[i].name);
        for (int r = 0; r < SUMMARY_REPLAYS; r++)
            sim_free(s->kinds[i].replay[r]);
    }
    for (size_t i = 0; i < s->n_cases; i++) {
        sim_free(s->cases[i].kind);
        sim_free(s->cases[i].body);
    }
    sim_free(s->kinds);
    sim_free(s->cases);
    sim_free(s->scenario);
    sim_free(s->seeds);
    sim_free(s->shard);
    sim_free(s->params);
    sim_free(s);
}

static struct kind *find_kind(sweep_summary *s, const char *name)
{
    for (size_t i = 0; i < s->n_kinds; i++)
        if (strcmp(s->kinds[i].name, name) == 0)
            return &s->kinds[i];
    SIM_GROW(s->kinds, s->cap_kinds, s->n_kinds + 1);
    struct kind *k = &s->kinds[s->n_kinds++];
    memset(k, 0, sizeof *k);
    k->name = sim_xstrdup(name);
    return k;
}

/* Errors are runs that never reached a verdict: JUnit's <error>, not <failure>. */
static bool is_error_kind(const char *kind)
{
    return strcmp(kind, "scenario_error") == 0 || strcmp(kind, "io_error") == 0 ||
           strcmp(kind, "internal_error") == 0 || strcmp(kind, "sim_crashed") == 0;
}

void sweep_summary_add(sweep_summary *s, const cJSON *line)
{
    uint64_t seed = jseed(line);
    const char *kind = jstr(line, "failure");
    const char *replay = jstr(line, "replay");
    double wall = jnum(line, "wall");
    s->done++;
    s->wall_sum += wall;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "checked")))
        s->checked++;
    if (kind) {
        s->failed++;
        if (strcmp(kind, "nondeterministic") == 0)
            s->nondeterministic++;
        struct kind *k = find_kind(s, kind);
        if (k->count < SUMMARY_SEEDS)
            k->seeds[k->count] = seed;
        if (k->count < SUMMARY_REPLAYS && replay)
            k->replay[k->count] = sim_xstrdup(replay);
        k->count++;
    } else {
        s->passed++;
    }
    if (!s->junit)
        return;
    SIM_GROW(s->cases, s->cap_cases, s->n_cases + 1);
    struct testcase *c = &s->cases[s->n_cases++];
    *c = (struct testcase){ .seed = seed, .wall = wall };
    if (kind) {
        c->kind = sim_xstrdup(kind);
        c->error = is_error_kind(kind);
        const char *why = jstr(line, "why");
        size_t n = (replay ? strlen(replay) : 0) + (why ? strlen(why) : 0) + 32;
        c->body = sim_xmalloc(n);
        snprintf(c->body, n, "replay: %s\n%s", replay ? replay : "(none)", why ? why : "");
    }
}

void sweep_summary_stopped(sweep_summary *s)
{
    s->stopped = true;
}

uint64_t sweep_summary_done(const sweep_summary *s)
{
    return s->done;
}

uint64_t sweep_summary_failed(const sweep_summary *s)
{
    return s->failed;
}

uint64_t sweep_summary_expected(const sweep_summary *s)
{
    return s->expected;
}

uint64_t sweep_summary_scenario_errors(const sweep_summary *s)
{
    for (size_t i = 0; i < s->n_kinds; i++)
        if (strcmp(s->kinds[i].name, "scenario_error") == 0)
            return s->kinds[i].count;
    return 0;
}

/* ---- the summary text ----------------------------------------------------------- */

/* Most frequent first; ties in name order, so the text never depends on
 * which kind happened to come first. */
static int kind_cmp(const void *pa, const void *pb)
{
    const struct kind *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->name, b->name);
}

void sweep_summary_print(const sweep_summary *s, FILE *out, const char *wall_line)
{
    fprintf(out, "sweep       %s, seeds %s", s->scenario, s->seeds);
    if (s->shard)
        fprintf(out, ", shard %s", s->shard);
    fprintf(out, " (%" PRIu64 " seed%s)%s%s%s\n", s->expected, s->expected == 1 ? "" : "s",
            s->swarm ? ", swarm" : "", s->params[0] ? ", with" : "", s->params);
    fprintf(out, "results     %" PRIu64 " run: %" PRIu64 " passed, %" PRIu64 " failed", s->done, s->passed,
            s->failed);
    if (s->done < s->expected)
        fprintf(out, "; %" PRIu64 " not run%s", s->expected - s->done,
                s->stopped ? " (stopped at the first failure)" : "");
    fprintf(out, "\n");

    struct kind *sorted = NULL;
    if (s->n_kinds) {
        sorted = sim_xmalloc(s->n_kinds * sizeof *sorted);
        memcpy(sorted, s->kinds, s->n_kinds * sizeof *sorted);
        qsort(sorted, s->n_kinds, sizeof *sorted, kind_cmp);
    }
    for (size_t i = 0; i < s->n_kinds; i++) {
        const struct kind *k = &sorted[i];
        fprintf(out, "%s %s: %" PRIu64 " seed%s (%.1f%%)\n", i == 0 ? "failures   " : "           ", k->name,
                k->count, k->count == 1 ? "" : "s", s->done ? 100.0 * (double)k->count / (double)s->done : 0.0);
        fprintf(out, "              seeds");
        uint64_t shown = k->count < SUMMARY_SEEDS ? k->count : SUMMARY_SEEDS;
        for (uint64_t j = 0; j < shown; j++)
            fprintf(out, "%s %" PRIu64, j ? "," : "", k->seeds[j]);
        if (k->count > shown)
            fprintf(out, " and %" PRIu64 " more", k->count - shown);
        fprintf(out, "\n");
        for (int r = 0; r < SUMMARY_REPLAYS; r++)
            if (k->replay[r])
                fprintf(out, "              %s\n", k->replay[r]);
    }
    sim_free(sorted);
    if (s->check_determinism > 0 || s->checked > 0) {
        if (s->nondeterministic)
            fprintf(out, "determinism %" PRIu64 " of %" PRIu64 " seeds run twice gave different traces "
                    "(a bug in sim or a model: see nondeterministic above)\n", s->nondeterministic, s->checked);
        else
            fprintf(out, "determinism %" PRIu64 " seed%s run twice: identical traces\n", s->checked,
                    s->checked == 1 ? "" : "s");
    }
    if (wall_line)
        fprintf(out, "wall        %s\n", wall_line);
    else
        fprintf(out, "wall        %.2f s of seed time in all (the sum of the seeds' wall times)\n", s->wall_sum);
}

/* ---- JUnit XML ----------------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 allows no other control characters, not even escaped */
            if (*p >= 0x20 || *p == '\n' || *p == '\t')
                fputc(*p, f);
            else
                fputc(' ', f);
        }
    }
}

int sweep_summary_junit(const sweep_summary *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    uint64_t errors = 0, failures = 0;
    for (size_t i = 0; i < s->n_cases; i++)
        if (s->cases[i].kind)
            *(s->cases[i].error ? &errors : &failures) += 1;
    /* classname: the scenario's file name without .lua, dots made safe */
    const char *base = strrchr(s->scenario, '/');
    base = base ? base + 1 : s->scenario;
    char cls[256];
    snprintf(cls, sizeof cls, "%s", base);
    size_t len = strlen(cls);
    if (len > 4 && strcmp(cls + len - 4, ".lua") == 0)
        cls[len - 4] = 0;
    for (char *p = cls; *p; p++)
        if (*p == '.')
            *p = '_';
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"sim sweep\" tests=\"%zu\" failures=\"%" PRIu64 "\" errors=\"%" PRIu64
            "\" time=\"%.3f\">\n", s->n_cases, failures, errors, s->wall_sum);
    fprintf(f, "  <testsuite name=\"");
    xml_text(f, s->scenario);
    fprintf(f, " seeds %s%s%s\" tests=\"%zu\" failures=\"%" PRIu64 "\" errors=\"%" PRIu64
            "\" skipped=\"0\" time=\"%.3f\">\n", s->seeds, s->shard ? " shard " : "", s->shard ? s->shard : "",
            s->n_cases, failures, errors, s->wall_sum);
    for (size_t i = 0; i < s->n_cases; i++) {
        const struct testcase *c = &s->cases[i];
        fprintf(f, "    <testcase classname=\"sim.sweep.");
        xml_text(f, cls);
        fprintf(f, "\" name=\"seed %" PRIu64 "\" time=\"%.3f\"", c->seed, c->wall);
        if (!c->kind) {
            fprintf(f, "/>\n");
            continue;
        }
        const char *tag = c->error ? "error" : "failure";
        fprintf(f, ">\n      <%s message=\"", tag);
        xml_text(f, c->kind);
        fprintf(f, "\" type=\"");
        xml_text(f, c->kind);
        fprintf(f, "\">");
        xml_text(f, c->body);
        fprintf(f, "</%s>\n    </testcase>\n", tag);
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}
