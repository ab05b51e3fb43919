/* A structure-aware libFuzzer mutator for the targets that read traces
 * (fuzz_check and fuzz_report; tests/fuzz/meson.build links it into those
 * two only).
 *
 * Why: a trace is JSON Lines, and libFuzzer's byte mutations mostly break
 * the JSON, so most inputs stop at the parser and the checkers and report
 * code behind it rarely see a trace that parses yet lies. Every crash found
 * so far was exactly that: an id of 1e300, a forged delay that overflowed a
 * sum, a second "cluster" line naming more nodes than the first. This
 * mutator makes such traces. Each call makes one edit and leaves the rest of
 * the file as it was:
 *
 *   - a number becomes a boundary value (0, -1, 1, INT64_MAX, INT64_MIN,
 *     +-1e300, 2^53, 2^53 + 1, 2^63, ...), a small random value, its own
 *     value give or take 2, or the value of the same field on another line;
 *   - a string becomes another string seen in the file (a node or client
 *     name, an "ev" kind, ...), a known "ev" kind, or "";
 *   - a value changes JSON type (number, string, null, bool, array, object);
 *   - a field is deleted, a known field name is added (or set) with a random
 *     value, or a field of another line is copied in;
 *   - an array grows (an element duplicated) or shrinks (one removed);
 *   - a line is duplicated, deleted, swapped with another, or moved earlier
 *     (often to second place, before the cluster line; sometimes to the
 *     top, before the header).
 *
 * The readers reject a whole trace whose times go backwards or whose first
 * line is not the header, so an edit that only did that would test those
 * two checks and nothing behind them. A line that moves therefore takes a
 * time that fits its new place (three times in four), and a new "t" is
 * mostly drawn between the neighbouring lines' times.
 *
 * A value edit parses one line with cJSON, edits the tree and prints it back
 * (so that line's formatting is cJSON's). A line that does not parse gets
 * libFuzzer's byte mutation instead, on that line alone. One call in ten
 * hands the whole input to LLVMFuzzerMutate, so damage at the byte level
 * (cut lines, broken escapes, stray bytes) and libFuzzer's cross-over and
 * compare-guided mutations are still explored; so does any call whose edit
 * does not apply or would make the input longer than max_size. (Not more
 * often: libFuzzer stacks up to five mutations per input, and one broken
 * line makes the readers reject the whole trace.)
 *
 * The setup lines (header, cluster, network, workload, ...) come first in a
 * trace and size the tables every later line indexes, so a quarter of the
 * line choices fall on the first SETUP_LINES lines.
 *
 * Deterministic: every choice comes from a PCG32 stream seeded from the seed
 * libFuzzer passes; no rand(), no clock. The same -seed=N on the same
 * corpus tries the same inputs.
 *
 * SIM_FUZZ_BYTES_ONLY=1 in the environment turns it off: every call is then
 * LLVMFuzzerMutate alone, which is libFuzzer's own mutation (it still draws
 * one random number per call for the seed it passes here, so a run is not
 * bit for bit the run of a binary without this file). tools/fuzz.sh says
 * how to compare the two. */
#include "fuzz.h"
#include "pcg.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry points: it calls the first, and provides the second */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define MUTATOR_STREAM UINT64_C(0x6a736f6e6c)  /* "jsonl": this file's PCG stream id */
#define BYTES_ONE_IN 10        /* one call in BYTES_ONE_IN is plain byte mutation */
#define SETUP_LINES 8          /* the first lines of a trace: header, cluster, workload, ... */
#define DONOR_TRIES 8          /* lines tried when looking for a value on another line */
#define LINE_GROWTH 256        /* at most this many bytes added to a line by byte mutation */
#define MAX_REWRITTEN 2        /* lines one edit may rewrite (a swap fits two times) */
#define TIME_SCAN 4            /* lines looked at for a neighbour's time */

/* ---- the input as lines ---- */

/* One line of the input, without its '\n'. */
typedef struct line {
    const char *text;
    size_t len;
} line;

/* The input being edited. The lines point into the caller's buffer, or into
 * owned texts for the lines an edit rewrote; the result is assembled in a
 * buffer of its own before it is copied back over the caller's. */
typedef struct jsonl {
    pcg32 rng;
    line *lines;          /* n_lines of them, with room for one more */
    size_t n_lines;
    bool final_newline;   /* the input ended in '\n' */
    size_t room;          /* how many bytes the input may still grow */
    size_t editing;       /* the line a tree edit is working on */
    struct {
        char *text;       /* a line rewritten by an edit */
        bool from_cjson;  /* from cJSON_Print*: free with cJSON_free, else free */
    } owned[MAX_REWRITTEN];
    size_t n_owned;
} jsonl;

/* Split data into lines. Returns 0, or -1 when out of memory. */
static int split_lines(jsonl *j, const uint8_t *data, size_t size)
{
    size_t count = 1;
    for (size_t i = 0; i < size; i++)
        count += data[i] == '\n';
    j->lines = malloc((count + 1) * sizeof *j->lines);
    if (!j->lines)
        return -1;
    j->final_newline = size > 0 && data[size - 1] == '\n';
    const char *text = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size && j->final_newline)
            break;   /* nothing after the last '\n' */
        if (i == size || data[i] == '\n') {
            j->lines[j->n_lines++] = (line){ text + start, i - start };
            start = i + 1;
        }
    }
    return 0;
}

/* Join the lines into data. Returns the new size, or 0 when the result would
 * be empty or longer than max_size (data is then left as it was). */
static size_t join_lines(const jsonl *j, uint8_t *data, size_t max_size)
{
    size_t total = j->final_newline;
    for (size_t i = 0; i < j->n_lines; i++)
        total += j->lines[i].len + (i > 0);
    if (total == 0 || total > max_size)
        return 0;
    uint8_t *out = malloc(total);   /* the lines may point into data */
    if (!out)
        return 0;
    size_t at = 0;
    for (size_t i = 0; i < j->n_lines; i++) {
        if (i > 0)
            out[at++] = '\n';
        memcpy(out + at, j->lines[i].text, j->lines[i].len);
        at += j->lines[i].len;
    }
    if (j->final_newline)
        out[at++] = '\n';
    memcpy(data, out, total);
    free(out);
    return total;
}

static void jsonl_free(jsonl *j)
{
    for (size_t i = 0; i < j->n_owned; i++) {
        if (j->owned[i].from_cjson)
            cJSON_free(j->owned[i].text);
        else
            free(j->owned[i].text);
    }
    free(j->lines);
}

/* Make line `at` the text given, which the jsonl now owns. */
static void own_line(jsonl *j, size_t at, char *text, size_t len, bool from_cjson)
{
    assert(j->n_owned < MAX_REWRITTEN);   /* no edit rewrites more lines */
    j->owned[j->n_owned].text = text;
    j->owned[j->n_owned].from_cjson = from_cjson;
    j->n_owned++;
    j->lines[at] = (line){ text, len };
}

/* A random line; a quarter of the time one of the setup lines at the top. */
static size_t pick_line(jsonl *j)
{
    if (j->n_lines > SETUP_LINES && pcg32_below(&j->rng, 4) == 0)
        return pcg32_below(&j->rng, SETUP_LINES);
    return pcg32_below(&j->rng, (uint32_t)j->n_lines);
}

/* Parse line `at`; NULL when it is not JSON. The caller frees the tree. */
static cJSON *parse_line(const jsonl *j, size_t at)
{
    return cJSON_ParseWithLength(j->lines[at].text, j->lines[at].len);
}

static bool line_contains(const line *l, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= l->len; i++)
        if (memcmp(l->text + i, needle, n) == 0)
            return true;
    return false;
}

/* Parse a random line that contains `needle` (any line when needle is
 * NULL), for a value to take from it. NULL when none was found in a few
 * tries. The caller frees the tree. */
static cJSON *parse_donor(jsonl *j, const char *needle)
{
    for (int try = 0; try < DONOR_TRIES; try++) {
        size_t at = pick_line(j);
        const line *l = &j->lines[at];
        if (needle && !line_contains(l, needle))
            continue;
        cJSON *root = parse_line(j, at);
        if (root)
            return root;
    }
    return NULL;
}

/* Replace line `at` with `tree` printed. Returns 0, or -1 when out of memory. */
static int set_line(jsonl *j, size_t at, const cJSON *tree)
{
    char *text = cJSON_PrintUnformatted(tree);
    if (!text)
        return -1;
    own_line(j, at, text, strlen(text), true);
    return 0;
}

/* The time ("t") of line at, if it has one that a reader accepts. */
static bool line_time(const jsonl *j, size_t at, double *t)
{
    cJSON *root = parse_line(j, at);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "t");
    bool found = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0;
    if (found)
        *t = v->valuedouble;
    cJSON_Delete(root);
    return found;
}

/* The time of the nearest line before (step -1) or after (step +1) line at
 * that has one, within TIME_SCAN lines. */
static bool neighbour_time(const jsonl *j, size_t at, int step, double *t)
{
    for (size_t k = 1; k <= TIME_SCAN; k++) {
        if (step < 0 ? at < k : at + k >= j->n_lines)
            return false;
        if (line_time(j, step < 0 ? at - k : at + k, t))
            return true;
    }
    return false;
}

/* A time for line at that keeps the times around it in order: between the
 * times of the lines before and after it. */
static double fitting_time(jsonl *j, size_t at)
{
    double before = 0, after;
    bool has_before = neighbour_time(j, at, -1, &before);
    if (!neighbour_time(j, at, +1, &after) || after < before)
        after = before + (has_before ? 1000 : 0);
    return before + (double)(int64_t)(pcg32_unit(&j->rng) * (after - before + 1));
}

/* After a line moved to `at`: give it a time that fits there, three times
 * in four (the fourth keeps the time it had, which may go backwards). Lines
 * without a time, and the header, are left as they are. */
static void fit_time(jsonl *j, size_t at)
{
    if (pcg32_below(&j->rng, 4) == 0)
        return;
    cJSON *root = parse_line(j, at);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "t");
    if (cJSON_IsNumber(t)) {
        cJSON_SetNumberValue(t, fitting_time(j, at));
        set_line(j, at, root);   /* out of memory: the line keeps its old time */
    }
    cJSON_Delete(root);
}

/* Byte-mutate line `at` alone, letting it grow by up to LINE_GROWTH bytes
 * within the room left. */
static int mutate_line_bytes(jsonl *j, size_t at)
{
    size_t len = j->lines[at].len;
    size_t cap = len + (j->room < LINE_GROWTH ? j->room : LINE_GROWTH);
    if (cap == 0)
        return -1;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    memcpy(buf, j->lines[at].text, len);
    len = LLVMFuzzerMutate((uint8_t *)buf, len, cap);
    own_line(j, at, buf, len, false);
    return 0;
}

/* ---- values to put in ---- */

/* Numbers at the edges of what a reader converts: int64 and double limits,
 * where doubles stop holding every integer, 32-bit limits, fractions, and
 * the huge values that broke sums before. Written as JSON text, so each is
 * in the trace exactly as here. */
static const char *const boundary_numbers[] = {
    "0", "-1", "1", "-0", "0.5", "-0.5", "2",
    "2147483647", "2147483648", "-2147483649", "4294967296",
    "9007199254740992", "9007199254740993", "-9007199254740993",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "18446744073709551615", "1e300", "-1e300", "1e-300", "1e308",
};

/* Field names the trace readers look up (sim/check, sim/report, sim/trace)
 * and docs/trace-format.md lists. */
static const char *const known_fields[] = {
    "t", "ev", "id", "from", "to", "msg", "node", "client", "op", "f", "key", "value",
    "values", "req", "error", "what", "role", "term", "reason", "params", "offset",
    "nodes", "groups", "clients", "type", "partitions", "partition", "ok", "map",
    "group", "format", "up", "timer", "state", "seed", "latency", "delay", "attempt",
    "attempts", "timeout", "duration", "start", "stop", "keys", "mix", "model",
    "limits", "drift_ppb", "down", "capacity", "entries", "duplicate", "window",
    "writes", "replicas", "assignment", "leader", "spec", "loss", "rate", "think",
    "tag", "status", "a", "b", "accepted", "met", "availability", "already_down",
    "service", "queue", "kept", "held", "holding", "busy", "discarded", "prefix",
};

/* Every "ev" kind of trace format 1, and the operation kinds. */
static const char *const known_strings[] = {
    "header", "cluster", "network", "workload", "nemesis_config", "error", "send",
    "deliver", "drop", "timer", "crash", "restart", "pause", "resume", "clock",
    "partition", "cut", "isolate", "bridge", "heal", "nemesis", "invoke", "ok",
    "fail", "info", "retry", "redirect", "note", "invariant", "log", "expect",
    "slo", "state", "end", "read", "write", "cas", "add", "remove", "txn",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *pick_from(jsonl *j, const char *const *list, size_t n)
{
    return list[pcg32_below(&j->rng, (uint32_t)n)];
}

typedef bool node_filter(const cJSON *item, const cJSON *parent);

/* A value in a tree, and the array or object that holds it (NULL for the
 * root). */
typedef struct node_ref {
    cJSON *item;
    cJSON *parent;
} node_ref;

static void pick_walk(jsonl *j, cJSON *item, cJSON *parent, node_filter *want,
                      node_ref *pick, uint32_t *seen)
{
    /* reservoir sampling: each matching value ends up picked with chance 1/seen */
    if (want(item, parent) && pcg32_below(&j->rng, ++*seen) == 0)
        *pick = (node_ref){ item, parent };
    if (cJSON_IsArray(item) || cJSON_IsObject(item))
        for (cJSON *child = item->child; child; child = child->next)
            pick_walk(j, child, item, want, pick, seen);
}

/* A random value of the tree that `want` accepts; item NULL when none does. */
static node_ref pick_node(jsonl *j, cJSON *root, node_filter *want)
{
    node_ref pick = { NULL, NULL };
    uint32_t seen = 0;
    pick_walk(j, root, NULL, want, &pick, &seen);
    return pick;
}

/* The first number named `key` in the tree, depth first; NULL if none. */
static const cJSON *find_number(const cJSON *item, const char *key)
{
    if (cJSON_IsNumber(item) && item->string && strcmp(item->string, key) == 0)
        return item;
    if (cJSON_IsArray(item) || cJSON_IsObject(item))
        for (const cJSON *child = item->child; child; child = child->next) {
            const cJSON *found = find_number(child, key);
            if (found)
                return found;
        }
    return NULL;
}

/* The same field's number on another line, or NULL. */
static cJSON *number_from_other_line(jsonl *j, const char *key)
{
    char needle[64];
    if (!key || snprintf(needle, sizeof needle, "\"%s\":", key) >= (int)sizeof needle)
        return NULL;
    cJSON *donor = parse_donor(j, needle);
    const cJSON *found = donor ? find_number(donor, key) : NULL;
    cJSON *copy = found ? cJSON_CreateNumber(found->valuedouble) : NULL;
    cJSON_Delete(donor);
    return copy;
}

/* A number to put where `old` is (old may be NULL; key is the field's name,
 * NULL in an array). The caller owns the result; NULL when out of memory. */
static cJSON *new_number(jsonl *j, const cJSON *old, const char *key)
{
    switch (pcg32_below(&j->rng, 8)) {
    case 0:
        return cJSON_CreateNumber((double)pcg32_range(&j->rng, -2, 64));
    case 1:
        if (old && cJSON_IsNumber(old))   /* off by a little: a neighbouring id or time */
            return cJSON_CreateNumber(old->valuedouble + (double)pcg32_range(&j->rng, -2, 2));
        break;
    case 2: {
        cJSON *other = number_from_other_line(j, key);
        if (other)
            return other;
        break;
    }
    default:
        break;
    }
    return cJSON_CreateRaw(pick_from(j, boundary_numbers, COUNT(boundary_numbers)));
}

static bool is_string_or_name(const cJSON *item, const cJSON *parent)
{
    (void)parent;
    return cJSON_IsString(item) || item->string;
}

/* A string seen on a random line: a string value or a member's name (as in
 * "acked":{"n2":2}). NULL when no line gave one. */
static cJSON *string_from_other_line(jsonl *j)
{
    cJSON *donor = parse_donor(j, NULL);
    if (!donor)
        return NULL;
    node_ref found = pick_node(j, donor, is_string_or_name);
    cJSON *copy = NULL;
    if (found.item) {
        bool use_name = found.item->string && (!cJSON_IsString(found.item) || pcg32_below(&j->rng, 2));
        copy = cJSON_CreateString(use_name ? found.item->string : found.item->valuestring);
    }
    cJSON_Delete(donor);
    return copy;
}

/* A string to put somewhere: mostly one seen in the file. The caller owns
 * the result; NULL when out of memory. */
static cJSON *new_string(jsonl *j)
{
    uint32_t kind = pcg32_below(&j->rng, 8);
    if (kind == 0)
        return cJSON_CreateString("");
    if (kind == 1)
        return cJSON_CreateString(pick_from(j, known_strings, COUNT(known_strings)));
    cJSON *seen = string_from_other_line(j);
    return seen ? seen : cJSON_CreateString("");
}

/* Put `inner` into `outer`, an array (name NULL) or an object (as member
 * `name`), and return outer. Takes both: on failure (either one NULL, out of
 * memory) frees both and returns NULL. */
static cJSON *wrap(cJSON *outer, const char *name, cJSON *inner)
{
    bool ok = outer && inner &&
              (name ? cJSON_AddItemToObject(outer, name, inner) : cJSON_AddItemToArray(outer, inner));
    if (ok)
        return outer;
    cJSON_Delete(outer);
    cJSON_Delete(inner);
    return NULL;
}

/* A value of a random JSON type; arrays and objects hold one value, up to
 * a small depth. The caller owns the result; NULL when out of memory. */
static cJSON *random_value(jsonl *j, int depth)
{
    uint32_t kind = pcg32_below(&j->rng, depth > 1 ? 4 : 6);
    switch (kind) {
    case 0:
        return new_number(j, NULL, NULL);
    case 1:
        return new_string(j);
    case 2:
        return cJSON_CreateNull();
    case 3:
        return cJSON_CreateBool(pcg32_below(&j->rng, 2));
    case 4:
        return wrap(cJSON_CreateArray(), NULL, random_value(j, depth + 1));
    default: {
        const char *name = pick_from(j, known_fields, COUNT(known_fields));
        return wrap(cJSON_CreateObject(), name, random_value(j, depth + 1));
    }
    }
}

/* ---- editing a tree ---- */

/* Put `with` where `at` is, and free what was there. A member of an object
 * keeps its name. The tree owns `with` on success (0); on failure (-1) the
 * caller still does. */
static int put_in_place(cJSON **root, node_ref at, cJSON *with)
{
    if (!at.parent) {
        cJSON_Delete(*root);
        *root = with;
        return 0;
    }
    if (at.item->string) {
        size_t size = strlen(at.item->string) + 1;
        char *name = cJSON_malloc(size);
        if (!name)
            return -1;
        memcpy(name, at.item->string, size);
        cJSON_free(with->string);   /* a duplicated member brings its own name */
        with->string = name;
    }
    return cJSON_ReplaceItemViaPointer(at.parent, at.item, with) ? 0 : -1;
}

/* Set member `name` of `object` to `value`: replace it if there is one, add
 * it otherwise. The tree owns value on success (0). */
static int set_member(cJSON *object, const char *name, cJSON *value)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(object, name);
    if (old)
        return put_in_place(&object, (node_ref){ old, object }, value);
    return cJSON_AddItemToObject(object, name, value) ? 0 : -1;
}

/* Put `with` where `at` is; `with` is freed if that fails. */
static int replace(cJSON **root, node_ref at, cJSON *with)
{
    if (!with)
        return -1;
    if (put_in_place(root, at, with) != 0) {
        cJSON_Delete(with);
        return -1;
    }
    return 0;
}

static bool is_any(const cJSON *item, const cJSON *parent)
{
    (void)item, (void)parent;
    return true;
}

static bool is_number(const cJSON *item, const cJSON *parent)
{
    (void)parent;
    return cJSON_IsNumber(item);
}

static bool is_string(const cJSON *item, const cJSON *parent)
{
    (void)parent;
    return cJSON_IsString(item);
}

static bool is_member(const cJSON *item, const cJSON *parent)
{
    (void)item;
    return parent && cJSON_IsObject(parent);
}

static bool is_object(const cJSON *item, const cJSON *parent)
{
    (void)parent;
    return cJSON_IsObject(item);
}

static bool is_array(const cJSON *item, const cJSON *parent)
{
    (void)parent;
    return cJSON_IsArray(item);
}

static bool is_filled_array(const cJSON *item, const cJSON *parent)
{
    (void)parent;
    return cJSON_IsArray(item) && item->child;
}

/* Each tree edit returns 0 when it changed the tree, -1 when it found
 * nothing to change (or ran out of memory). */
typedef int tree_edit_fn(jsonl *j, cJSON **root);

/* A number becomes another; a line's own time mostly stays between its
 * neighbours' (see the top of the file). */
static int edit_number(jsonl *j, cJSON **root)
{
    node_ref at = pick_node(j, *root, is_number);
    if (!at.item)
        return -1;
    bool line_time_field = at.parent == *root && cJSON_IsObject(*root) && strcmp(at.item->string, "t") == 0;
    if (line_time_field && pcg32_below(&j->rng, 4) != 0) {
        cJSON_SetNumberValue(at.item, fitting_time(j, j->editing));
        return 0;
    }
    return replace(root, at, new_number(j, at.item, at.item->string));
}

static int edit_string(jsonl *j, cJSON **root)
{
    node_ref at = pick_node(j, *root, is_string);
    if (!at.item)
        return -1;
    return replace(root, at, new_string(j));
}

/* The same value as another JSON type: 5 -> "5" -> [5] -> {"id": 5} ->
 * null -> true; a string that reads as a number becomes that number. */
static int edit_type(jsonl *j, cJSON **root)
{
    node_ref at = pick_node(j, *root, is_any);
    cJSON *old = at.item, *with = NULL;
    switch (pcg32_below(&j->rng, 6)) {
    case 0:
        if (cJSON_IsString(old)) {
            char *end;
            double d = strtod(old->valuestring, &end);
            if (end != old->valuestring && *end == '\0') {
                with = cJSON_CreateNumber(d);
                break;
            }
        }
        with = cJSON_IsNumber(old) ? NULL : new_number(j, NULL, old->string);
        break;
    case 1:
        if (cJSON_IsNumber(old)) {
            char *text = cJSON_PrintUnformatted(old);
            with = text ? cJSON_CreateString(text) : NULL;
            cJSON_free(text);
        } else if (!cJSON_IsString(old)) {
            with = new_string(j);
        }
        break;
    case 2:
        with = cJSON_IsNull(old) ? NULL : cJSON_CreateNull();
        break;
    case 3:
        with = cJSON_IsBool(old) ? NULL : cJSON_CreateBool(pcg32_below(&j->rng, 2));
        break;
    case 4:
        with = wrap(cJSON_CreateArray(), NULL, cJSON_Duplicate(old, true));
        break;
    default:
        with = wrap(cJSON_CreateObject(), pick_from(j, known_fields, COUNT(known_fields)),
                    cJSON_Duplicate(old, true));
        break;
    }
    return replace(root, at, with);
}

static int edit_delete_field(jsonl *j, cJSON **root)
{
    node_ref at = pick_node(j, *root, is_member);
    if (!at.item)
        return -1;
    cJSON_Delete(cJSON_DetachItemViaPointer(at.parent, at.item));
    return 0;
}

/* Add a field a reader looks for, or give it a new value if it is there. */
static int edit_add_field(jsonl *j, cJSON **root)
{
    node_ref at = cJSON_IsObject(*root) && pcg32_below(&j->rng, 2)
                      ? (node_ref){ *root, NULL }
                      : pick_node(j, *root, is_object);
    if (!at.item)
        return -1;
    const char *name = pick_from(j, known_fields, COUNT(known_fields));
    cJSON *value = random_value(j, 0);
    if (!value)
        return -1;
    if (set_member(at.item, name, value) != 0) {
        cJSON_Delete(value);
        return -1;
    }
    return 0;
}

/* Duplicate an element of an array at a random place (an empty array gets
 * a random value): a node listed twice, one more client. */
static int edit_array_grow(jsonl *j, cJSON **root)
{
    node_ref at = pick_node(j, *root, is_array);
    if (!at.item)
        return -1;
    int n = cJSON_GetArraySize(at.item);
    cJSON *element = n ? cJSON_Duplicate(cJSON_GetArrayItem(at.item, (int)pcg32_below(&j->rng, (uint32_t)n)), true)
                       : random_value(j, 0);
    if (!element)
        return -1;
    if (!cJSON_InsertItemInArray(at.item, (int)pcg32_below(&j->rng, (uint32_t)n + 1), element)) {
        cJSON_Delete(element);
        return -1;
    }
    return 0;
}

static int edit_array_shrink(jsonl *j, cJSON **root)
{
    node_ref at = pick_node(j, *root, is_filled_array);
    if (!at.item)
        return -1;
    int n = cJSON_GetArraySize(at.item);
    cJSON_Delete(cJSON_DetachItemFromArray(at.item, (int)pcg32_below(&j->rng, (uint32_t)n)));
    return 0;
}

/* Copy a field of another line into this one: the top-level object half of
 * the time, else any object in it. */
static int edit_copy_field(jsonl *j, cJSON **root)
{
    node_ref into = cJSON_IsObject(*root) && pcg32_below(&j->rng, 2)
                        ? (node_ref){ *root, NULL }
                        : pick_node(j, *root, is_object);
    if (!into.item)
        return -1;
    cJSON *donor = parse_donor(j, NULL);
    if (!donor)
        return -1;
    node_ref field = pick_node(j, donor, is_member);
    cJSON *copy = field.item ? cJSON_Duplicate(field.item, true) : NULL;
    int rc = -1;
    if (copy) {
        rc = set_member(into.item, field.item->string, copy);
        if (rc != 0)
            cJSON_Delete(copy);
    }
    cJSON_Delete(donor);
    return rc;
}

/* Apply a tree edit to a random line. A line that does not parse gets byte
 * mutation instead. */
static int edit_line_tree(jsonl *j, tree_edit_fn *edit)
{
    size_t at = pick_line(j);
    cJSON *root = parse_line(j, at);
    if (!root)
        return mutate_line_bytes(j, at);
    j->editing = at;
    int rc = edit(j, &root);
    if (rc == 0)
        rc = set_line(j, at, root);
    cJSON_Delete(root);
    return rc;
}

/* ---- editing the list of lines ---- */

/* Each line edit returns 0 when it changed the list, -1 when the input has
 * too few lines for it. */
typedef int line_edit_fn(jsonl *j);

/* A copy of a line at a random place: two headers, a second cluster line. */
static int edit_duplicate_line(jsonl *j)
{
    size_t from = pick_line(j);
    size_t to = pcg32_below(&j->rng, (uint32_t)j->n_lines + 1);
    line copy = j->lines[from];
    memmove(&j->lines[to + 1], &j->lines[to], (j->n_lines - to) * sizeof *j->lines);
    j->lines[to] = copy;
    j->n_lines++;
    fit_time(j, to);
    return 0;
}

static int edit_delete_line(jsonl *j)
{
    if (j->n_lines < 2)
        return -1;
    size_t at = pick_line(j);
    memmove(&j->lines[at], &j->lines[at + 1], (j->n_lines - at - 1) * sizeof *j->lines);
    j->n_lines--;
    return 0;
}

static int edit_swap_lines(jsonl *j)
{
    if (j->n_lines < 2)
        return -1;
    size_t a = pick_line(j), b = pick_line(j);
    if (a == b)
        b = (a + 1) % j->n_lines;
    line kept = j->lines[a];
    j->lines[a] = j->lines[b];
    j->lines[b] = kept;
    fit_time(j, a);
    fit_time(j, b);
    return 0;
}

/* Move a line earlier: an eighth of the time to the top (before the
 * header), three eighths to second place (between the header and the
 * cluster line), else anywhere before it. */
static int edit_move_line_earlier(jsonl *j)
{
    if (j->n_lines < 2)
        return -1;
    size_t from = 1 + pcg32_below(&j->rng, (uint32_t)j->n_lines - 1);
    size_t to;
    uint32_t where = pcg32_below(&j->rng, 8);
    if (where == 0)
        to = 0;
    else if (where < 4)
        to = from > 1 ? 1 : 0;
    else
        to = pcg32_below(&j->rng, (uint32_t)from);
    line moved = j->lines[from];
    memmove(&j->lines[to + 1], &j->lines[to], (from - to) * sizeof *j->lines);
    j->lines[to] = moved;
    fit_time(j, to);
    return 0;
}

/* ---- the mutator ---- */

/* The edits and how often each is chosen: numbers most, since hostile
 * numbers found most of the crashes so far. */
static const struct {
    tree_edit_fn *tree;   /* exactly one of tree and lines is set */
    line_edit_fn *lines;
    uint32_t weight;
} edits[] = {
    { edit_number, NULL, 6 },
    { edit_string, NULL, 3 },
    { edit_type, NULL, 3 },
    { edit_delete_field, NULL, 2 },
    { edit_add_field, NULL, 2 },
    { edit_copy_field, NULL, 2 },
    { edit_array_grow, NULL, 1 },
    { edit_array_shrink, NULL, 1 },
    { NULL, edit_duplicate_line, 2 },
    { NULL, edit_delete_line, 1 },
    { NULL, edit_swap_lines, 1 },
    { NULL, edit_move_line_earlier, 2 },
};

/* Apply one edit drawn by weight; a few draws in case one does not apply. */
static int edit_once(jsonl *j)
{
    uint32_t total = 0;
    for (size_t i = 0; i < COUNT(edits); i++)
        total += edits[i].weight;
    for (int try = 0; try < 4; try++) {
        uint32_t draw = pcg32_below(&j->rng, total);
        size_t i = 0;
        while (draw >= edits[i].weight)
            draw -= edits[i++].weight;
        int rc = edits[i].tree ? edit_line_tree(j, edits[i].tree) : edits[i].lines(j);
        if (rc == 0)
            return 0;
    }
    return -1;
}

static bool bytes_only(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("SIM_FUZZ_BYTES_ONLY");
        cached = v && *v && strcmp(v, "0") != 0;
    }
    return cached;
}

/* libFuzzer calls this for each mutation: change data (size bytes, in a
 * buffer of max_size) in place and return the new size, 1..max_size. All
 * memory allocated here is freed before it returns. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    if (bytes_only() || size == 0 || size > max_size)
        return LLVMFuzzerMutate(data, size, max_size);
    jsonl j = { .room = max_size - size };
    pcg32_stream(&j.rng, seed, MUTATOR_STREAM);
    if (pcg32_below(&j.rng, BYTES_ONE_IN) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t new_size = 0;
    if (split_lines(&j, data, size) == 0 && edit_once(&j) == 0)
        new_size = join_lines(&j, data, max_size);
    jsonl_free(&j);
    return new_size ? new_size : LLVMFuzzerMutate(data, size, max_size);
}
