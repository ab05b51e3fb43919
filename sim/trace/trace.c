#include "trace.h"
#include "alloc.h"
#include "exitcodes.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACE_BUFFER (256 * 1024)

/* Lines are written straight into the jw buffer, which is also the output
 * buffer: it is handed to write(2) whole once it passes TRACE_BUFFER, so
 * only complete lines ever reach the file. */
struct trace {
    int fd;
    int owns_fd;
    int failed;
    jw line;
    size_t line_start;
    uint64_t lines;
    uint64_t bytes;
    trace_observer_fn observer;   /* sees every line as it is ended (sim run --explain) */
    void *observer_ud;
};

static trace *trace_new(int fd, int owns)
{
    trace *t = sim_xcalloc(1, sizeof *t);
    t->fd = fd;
    t->owns_fd = owns;
    jw_init(&t->line);
    return t;
}

trace *trace_open(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0)
        return trace_new(STDOUT_FILENO, 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write trace %s: %s", path, strerror(errno));
        return NULL;
    }
    return trace_new(fd, 1);
}

trace *trace_open_fd(int fd)
{
    return trace_new(fd, 0);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int trace_flush(trace *t)
{
    jw *w = &t->line;
    if (w->len && !t->failed && write_all(t->fd, w->buf, w->len) < 0)
        t->failed = errno ? errno : EIO;
    jw_reset(w);
    if (t->failed) {
        errno = t->failed;
        return -1;
    }
    return 0;
}

jw *trace_begin_quoted(trace *t, sim_time at, const char *quoted_ev, size_t n)
{
    jw *w = &t->line;
    t->line_start = w->len;
    jw_restart(w);
    jw_obj(w);
    JW_APPEND(w, "\"t\":");
    jw_append_int(w, at);
    JW_APPEND(w, ",\"ev\":");
    jw_append(w, quoted_ev, n);
    w->need_comma[w->depth] = 1;   /* fields follow */
    return w;
}

jw *trace_begin(trace *t, sim_time at, const char *ev)
{
    jw *w = &t->line;
    t->line_start = w->len;
    jw_restart(w);
    jw_obj(w);
    if (at >= 0) {
        /* the hottest few bytes of the trace, laid out by hand */
        JW_APPEND(w, "\"t\":");
        jw_append_int(w, at);
        JW_APPEND(w, ",\"ev\":");
        w->need_comma[w->depth] = 1;
        w->after_key = 1;
    } else {
        JW_KEY(w, "ev");
    }
    jw_str(w, ev);
    return w;
}

void trace_end(trace *t)
{
    jw *w = &t->line;
    jw_obj_end(w);
    jw_append(w, "\n", 1);
    t->lines++;
    t->bytes += w->len - t->line_start;
    if (t->observer)
        t->observer(t->observer_ud, w->buf + t->line_start, w->len - t->line_start);
    if (w->len >= TRACE_BUFFER)
        trace_flush(t);
}

int trace_close(trace *t)
{
    if (!t)
        return 0;
    int rc = trace_flush(t);
    int saved = errno;
    if (t->owns_fd && close(t->fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    jw_free(&t->line);
    sim_free(t);
    errno = saved;
    return rc;
}

int trace_failed(const trace *t) { return t->failed != 0; }
uint64_t trace_lines(const trace *t) { return t->lines; }
uint64_t trace_bytes(const trace *t) { return t->bytes; }

/* ---- reading ---------------------------------------------------------- */

long trace_getline(FILE *f, char **buf, size_t *cap, int *complete)
{
    size_t len = 0;
    int c;
    *complete = 1;
    while ((c = getc(f)) != EOF) {
        if (len + 2 > *cap)
            SIM_GROW(*buf, *cap, len + 2);
        if (c == '\n') {
            (*buf)[len] = 0;
            return (long)len;
        }
        (*buf)[len++] = (char)c;
    }
    if (len == 0)
        return -1;
    (*buf)[len] = 0;
    *complete = 0;
    return (long)len;
}

static char *dup_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? sim_xstrdup(v->valuestring) : NULL;
}

int trace_header_read(const char *path, struct trace_header *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot read trace %s: %s", path, f ? strerror(EISDIR) : strerror(errno));
        if (f)
            fclose(f);
        return SIM_EXIT_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    int complete;
    long n = trace_getline(f, &line, &cap, &complete);
    fclose(f);
    if (n < 0) {
        snprintf(err, errlen, "%s: empty file, expected a trace header on line 1", path);
        sim_free(line);
        return SIM_EXIT_BAD_TRACE;
    }
    long failures = sim_alloc_failures();
    cJSON *h = cJSON_ParseWithLength(line, (size_t)n);
    sim_free(line);
    if (!h && sim_alloc_failures() != failures) {
        snprintf(err, errlen, "out of memory");
        return SIM_EXIT_INTERNAL;
    }
    const cJSON *ev = h ? cJSON_GetObjectItemCaseSensitive(h, "ev") : NULL;
    if (!h || !cJSON_IsObject(h) || !cJSON_IsString(ev) || strcmp(ev->valuestring, "header") != 0) {
        snprintf(err, errlen, "%s:1: not a sim trace (expected a JSON object with \"ev\":\"header\")", path);
        cJSON_Delete(h);
        return SIM_EXIT_BAD_TRACE;
    }
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(h, "format");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(h, "seed");
    out->scenario = dup_string(h, "scenario");
    out->scenario_sha256 = dup_string(h, "scenario_sha256");
    out->sim_version = dup_string(h, "sim_version");
    if (!cJSON_IsNumber(format) || !out->scenario || !cJSON_IsString(seed)) {
        snprintf(err, errlen, "%s:1: trace header lacks format, scenario or seed", path);
        cJSON_Delete(h);
        trace_header_free(out);
        return SIM_EXIT_BAD_TRACE;
    }
    out->format = format->valueint;
    if (out->format != TRACE_FORMAT_VERSION) {
        snprintf(err, errlen, "%s:1: trace format %d is not supported (this sim reads format %d)",
                 path, out->format, TRACE_FORMAT_VERSION);
        cJSON_Delete(h);
        trace_header_free(out);
        return SIM_EXIT_BAD_TRACE;
    }
    char *end = NULL;
    errno = 0;
    out->seed = strtoull(seed->valuestring, &end, 10);
    if (errno || !end || *end || seed->valuestring[0] == '-' || seed->valuestring[0] == 0) {
        snprintf(err, errlen, "%s:1: trace header seed \"%s\" is not an unsigned integer",
                 path, seed->valuestring);
        cJSON_Delete(h);
        trace_header_free(out);
        return SIM_EXIT_BAD_TRACE;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(h, "params");
    if (cJSON_IsObject(params))
        out->params = cJSON_Duplicate(params, 1);
    cJSON_Delete(h);
    return 0;
}

void trace_header_free(struct trace_header *h)
{
    sim_free(h->sim_version);
    sim_free(h->scenario);
    sim_free(h->scenario_sha256);
    cJSON_Delete(h->params);
    memset(h, 0, sizeof *h);
}

void trace_set_observer(trace *t, trace_observer_fn fn, void *ud)
{
    t->observer = fn;
    t->observer_ud = ud;
}
