// Shared user-space code of the hand-written libbpf contenders: the same
// protocol as hvt and bpftrace (print "Attaching N probes..." once every
// probe is attached, run until SIGINT/SIGTERM, print the results at exit).
// Header-only so that each contender stays one translation unit.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t loader_stop;

static inline void loader_on_signal(int sig) {
  (void)sig;
  loader_stop = 1;
}

static inline int loader_quiet_print(enum libbpf_print_level level,
                                     const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
    return 0;
  return vfprintf(stderr, fmt, args);
}

// Installs the signal handlers (without SA_RESTART, so they interrupt a
// ring-buffer poll) and keeps libbpf's debug chatter off stderr.
static inline void loader_init(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = loader_on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  libbpf_set_print(loader_quiet_print);
}

static inline void loader_attached(int probes) {
  printf("Attaching %d probe%s...\n", probes, probes == 1 ? "" : "s");
  fflush(stdout);
}

static inline int loader_fail(const char *what, int err) {
  fprintf(stderr, "loader: %s failed: %s\n", what,
          strerror(err < 0 ? -err : err));
  return 1;
}

// Sleeps until a signal arrives.
static inline void loader_wait(void) {
  while (!loader_stop)
    pause();
}

static inline int loader_ncpus(void) {
  int n = libbpf_num_possible_cpus();
  return n > 0 ? n : 1;
}

// Sums a per-CPU u64 value.
static inline uint64_t loader_percpu_sum(int fd, const void *key, uint64_t *buf,
                                         int ncpus) {
  if (bpf_map_lookup_elem(fd, key, buf) != 0)
    return 0;
  uint64_t total = 0;
  for (int i = 0; i < ncpus; ++i)
    total += buf[i];
  return total;
}

// bpftrace's power-of-two histogram rows: bucket 0 is negative, 1 is zero,
// i >= 2 holds [2^(i-2), 2^(i-1)).
static inline void loader_print_hist(const char *header,
                                     const uint64_t *buckets, int n) {
  int first = -1, last = -1;
  uint64_t max = 0;
  for (int i = 0; i < n; ++i) {
    if (!buckets[i])
      continue;
    if (first < 0)
      first = i;
    last = i;
    if (buckets[i] > max)
      max = buckets[i];
  }
  if (first < 0)
    return;
  printf("%s\n", header);
  static const char suffix[] = " KMGTPE";
  for (int i = first; i <= last; ++i) {
    char label[64];
    if (i == 0) {
      snprintf(label, sizeof(label), "(..., 0)");
    } else if (i == 1) {
      snprintf(label, sizeof(label), "[0]");
    } else {
      int lo = i - 2, hi = i - 1;
      char a[16], b[16];
      snprintf(a, sizeof(a), "%llu%c", 1ULL << (lo % 10), suffix[lo / 10]);
      snprintf(b, sizeof(b), "%llu%c", 1ULL << (hi % 10), suffix[hi / 10]);
      if (a[strlen(a) - 1] == ' ')
        a[strlen(a) - 1] = '\0';
      if (b[strlen(b) - 1] == ' ')
        b[strlen(b) - 1] = '\0';
      if (i == 2)
        snprintf(label, sizeof(label), "[1]");
      else
        snprintf(label, sizeof(label), "[%s, %s)", a, b);
    }
    char bar[53];
    int width = max ? (int)(buckets[i] * 52 / max) : 0;
    memset(bar, '@', (size_t)width);
    memset(bar + width, ' ', (size_t)(52 - width));
    bar[52] = '\0';
    printf("%-16s %8llu |%s|\n", label, (unsigned long long)buckets[i], bar);
  }
  printf("\n");
}

// The bucket a value falls in, as above (used by the loaders' printers only;
// the BPF programs compute it themselves).
static inline int loader_log2_bucket(int64_t v) {
  if (v < 0)
    return 0;
  if (v == 0)
    return 1;
  return 2 + (63 - __builtin_clzll((uint64_t)v));
}
