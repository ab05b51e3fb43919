/* ring_bench: the consistent-hash ring (models/ring.c) at scale.
 *
 *   ring_bench [--nodes N] [--vnodes V] [--keys K]
 *
 * Builds a ring of N nodes with V points each (default 100,000 x 16), places
 * K keys "k1".."kK" (default 1,000,000), then takes the last node out (a
 * leave; read backwards, its join) and counts the keys that change owner,
 * against "hash mod N" placement going from N to N-1 nodes. Prints one
 * "name value" line per figure: build time, lookup rate, keys moved (ring
 * and modulo), the spread of keys per node, and peak resident memory in
 * all and per node (getrusage ru_maxrss, so it includes the key table).
 *
 * The simulator itself caps a cluster at 1,000 nodes (world_cluster and
 * cluster{}), so a 100,000-node ring is measured here, outside the engine.
 * Wall-clock time is read here only: nothing of it reaches a trace. */
#include "models/ring.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;   /* KiB on Linux */
}

static long arg(int argc, char **argv, const char *name, long dflt, long lo, long hi)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < lo || v > hi) {
                fprintf(stderr, "ring_bench: %s must be %ld to %ld\n", name, lo, hi);
                exit(2);
            }
            return v;
        }
    return dflt;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2)
        if (strcmp(argv[i], "--nodes") && strcmp(argv[i], "--vnodes") && strcmp(argv[i], "--keys")) {
            fprintf(stderr, "usage: ring_bench [--nodes N] [--vnodes V] [--keys K]\n");
            return 2;
        }
    int nodes = (int)arg(argc, argv, "--nodes", 100000, 2, 10000000);
    int vnodes = (int)arg(argc, argv, "--vnodes", 16, 1, 4096);
    long n_keys = arg(argc, argv, "--keys", 1000000, 1, 100000000);
    long rss0 = peak_rss_kib();

    double t0 = seconds();
    ring *r = ring_new(nodes, vnodes);
    double t_build = seconds() - t0;
    if (!r) {
        fprintf(stderr, "ring_bench: cannot build the ring\n");
        return 1;
    }
    long rss_ring = peak_rss_kib();

    int32_t *owner = malloc((size_t)n_keys * sizeof *owner);
    uint64_t *hash = malloc((size_t)n_keys * sizeof *hash);
    int64_t *count = calloc((size_t)nodes, sizeof *count);
    bool *skip = calloc((size_t)nodes, sizeof *skip);
    if (!owner || !hash || !count || !skip) {
        fprintf(stderr, "ring_bench: out of memory\n");
        return 1;
    }
    char key[32];
    t0 = seconds();
    for (long k = 0; k < n_keys; k++) {
        snprintf(key, sizeof key, "k%ld", k + 1);
        owner[k] = ring_owner(r, key);
        hash[k] = ring_key_hash(key);
        count[owner[k]]++;
    }
    double t_place = seconds() - t0;

    /* the last node leaves: only its keys may move */
    skip[nodes - 1] = true;
    long moved = 0, mod_moved = 0;
    t0 = seconds();
    for (long k = 0; k < n_keys; k++) {
        snprintf(key, sizeof key, "k%ld", k + 1);
        int o;
        ring_preference_list(r, key, 1, skip, &o);
        moved += o != owner[k];
        mod_moved += hash[k] % (uint64_t)nodes != hash[k] % (uint64_t)(nodes - 1);
    }
    double t_leave = seconds() - t0;

    double mean = (double)n_keys / nodes, var = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < nodes; i++) {
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
        var += ((double)count[i] - mean) * ((double)count[i] - mean);
    }
    long rss = peak_rss_kib();

    printf("nodes %d\nvnodes %d\nkeys %ld\n", nodes, vnodes, n_keys);
    printf("build_s %.3f\n", t_build);
    printf("place_s %.3f\nlookups_per_s %.0f\n", t_place, (double)n_keys / t_place);
    printf("leave_s %.3f\n", t_leave);
    printf("moved %ld\nmoved_fraction %.6f\nexpected_fraction %.6f\n", moved,
           (double)moved / n_keys, 1.0 / nodes);
    printf("modulo_moved %ld\nmodulo_fraction %.6f\n", mod_moved, (double)mod_moved / n_keys);
    printf("load_min %lld\nload_max %lld\nload_mean %.3f\nload_stddev %.3f\n", (long long)lo,
           (long long)hi, mean, sqrt(var / nodes));
    printf("peak_rss_kib %ld\nring_rss_kib %ld\nring_bytes_per_node %.1f\npeak_bytes_per_node %.1f\n",
           rss, rss_ring - rss0, (double)(rss_ring - rss0) * 1024 / nodes, (double)rss * 1024 / nodes);
    ring_free(r);
    free(owner);
    free(hash);
    free(count);
    free(skip);
    return 0;
}
