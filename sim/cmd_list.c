/* sim list: the models with their parameters, and the scenarios shipped. */
#include "cli.h"
#include "sort.h"
#include "core/exitcodes.h"
#include "core/model.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char list_help[] =
    "usage: sim list [--scenarios DIR]\n"
    "\n"
    "List the models (protocols) with every parameter, its type, default and\n"
    "meaning, then the scenarios in DIR with the first line of each one's\n"
    "comment. DIR defaults to ./scenarios, or the scenarios folder next to\n"
    "the build directory sim was run from.\n";

const struct cli_command cli_list = {
    "list", "list models, their parameters and defaults, and the scenarios",
    list_help, cmd_list, NULL,
};

static const char *type_name(const struct model_param *p)
{
    switch (p->type) {
    case PARAM_INT: return "int";
    case PARAM_BOOL: return "bool";
    case PARAM_TIME: return "time";
    case PARAM_ENUM: return p->choices;
    case PARAM_NUM: return "number";
    case PARAM_FUNC: return "lua function";
    case PARAM_STR: return "string";
    }
    return "?";
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first comment line of a scenario, without the leading "--". */
static void first_comment(const char *path, char *out, size_t outlen)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncmp(s, "--", 2) != 0)
            continue;
        s += 2;
        while (*s == '-' || *s == '[' || *s == ' ')
            s++;
        s[strcspn(s, "\r\n")] = 0;
        if (*s) {
            snprintf(out, outlen, "%s", s);
            break;
        }
    }
    fclose(f);
}

int cmd_list(int argc, char **argv)
{
    if (cli_wants_help(&cli_list, argc, argv))
        return SIM_EXIT_OK;
    const char *dir = "scenarios";
    bool explicit_dir = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scenarios") == 0 && i + 1 < argc) {
            dir = argv[++i];
            explicit_dir = true;
        } else {
            cli_error("list: unexpected argument \"%s\" (see sim list --help)", argv[i]);
            return SIM_EXIT_USAGE;
        }
    }
    printf("models:\n");
    for (const struct model *const *m = model_all(); *m; m++) {
        printf("\n  %s - %s\n", (*m)->name, (*m)->summary);
        for (const struct model_param *p = (*m)->params; p && p->name; p++)
            printf("    %-18s %-22s default %-8s %s\n", p->name, type_name(p), p->def ? p->def : "none",
                   p->help);
        if ((*m)->mutants) {
            printf("    mutants (--param mutant=NAME switches one deliberate bug on):\n");
            for (const struct model_mutant *mu = (*m)->mutants; mu->name; mu++)
                printf("      %-24s %s\n", mu->name, mu->help);
        }
    }
    DIR *d = opendir(dir);
    char beside[4096];
    if (!d && !explicit_dir) {
        /* run from elsewhere: the scenarios next to the build directory */
        ssize_t n = readlink("/proc/self/exe", beside, sizeof beside - 32);
        if (n > 0) {
            beside[n] = 0;
            char *slash = strrchr(beside, '/');
            if (slash) {
                strcpy(slash, "/../scenarios");
                d = opendir(beside);
                if (d)
                    dir = beside;
            }
        }
    }
    if (!d) {
        printf("\nscenarios: none (no directory %s here)\n", dir);
        return SIM_EXIT_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".lua") == 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                names = realloc(names, cap * sizeof *names);
                if (!names) {
                    closedir(d);
                    return SIM_EXIT_INTERNAL;
                }
            }
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    sim_qsort(names, n, sizeof *names, by_name);
    printf("\nscenarios (in %s):\n", dir);
    for (size_t i = 0; i < n; i++) {
        char path[4096 + 512], about[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        first_comment(path, about, sizeof about);
        printf("  %-40s %s\n", names[i], about);
        free(names[i]);
    }
    free(names);
    return SIM_EXIT_OK;
}
