#include "alloc.h"
#include "exitcodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long alloc_count;
static long fail_from;
static long failures;

static int should_fail(void)
{
    alloc_count++;
    if (fail_from > 0 && alloc_count >= fail_from) {
        failures++;
        return 1;
    }
    return 0;
}

static void *counted(void *p)
{
    if (!p)
        failures++;
    return p;
}

void *sim_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return counted(malloc(size ? size : 1));
}

void *sim_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return counted(calloc(count ? count : 1, size ? size : 1));
}

void *sim_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return counted(realloc(ptr, size ? size : 1));
}

void sim_free(void *ptr)
{
    free(ptr);
}

static void out_of_memory(void)
{
    fputs("sim: out of memory\n", stderr);
    exit(SIM_EXIT_INTERNAL);
}

void *sim_xmalloc(size_t size)
{
    void *p = sim_malloc(size);
    if (!p)
        out_of_memory();
    return p;
}

void *sim_xcalloc(size_t count, size_t size)
{
    void *p = sim_calloc(count, size);
    if (!p)
        out_of_memory();
    return p;
}

void *sim_xrealloc(void *ptr, size_t size)
{
    void *p = sim_realloc(ptr, size);
    if (!p)
        out_of_memory();
    return p;
}

char *sim_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sim_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

void sim_grow(void **items, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    *items = sim_xrealloc(*items, n * elem_size);
    *cap = n;
}

void sim_alloc_fail_from(long n)
{
    fail_from = n > 0 ? alloc_count + n : 0;
}

long sim_alloc_count(void)
{
    return alloc_count;
}

long sim_alloc_failures(void)
{
    return failures;
}
