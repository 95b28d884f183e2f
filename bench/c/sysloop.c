// A system-call-heavy loop: N getppid() calls, optionally paced to a rate
// (0: as fast as possible). Prints "<calls> <elapsed ns> <ns per call>".
// With "wait", it first reads a line from stdin, so a tracer can be started
// with its pid before the loop runs.
// Usage: sysloop CALLS [CALLS_PER_SECOND [wait]]
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CALLS [CALLS_PER_SECOND [wait]]\n", argv[0]);
    return 1;
  }
  uint64_t calls = strtoull(argv[1], NULL, 10);
  uint64_t rate = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
  if (argc > 3 && strcmp(argv[3], "wait") == 0) {
    char line[16];
    if (!fgets(line, sizeof(line), stdin))
      return 1;
  }
  uint64_t start = now_ns();
  if (rate == 0) {
    for (uint64_t i = 0; i < calls; ++i)
      syscall(SYS_getppid);
  } else {
    // Paced in batches of 64 calls: sleep-free, so pacing adds no syscalls.
    uint64_t per_batch_ns = 64ULL * 1000000000ULL / rate;
    for (uint64_t i = 0; i < calls; i += 64) {
      for (uint64_t j = i; j < i + 64 && j < calls; ++j)
        syscall(SYS_getppid);
      uint64_t due = start + (i / 64 + 1) * per_batch_ns;
      while (now_ns() < due)
        ;
    }
  }
  uint64_t elapsed = now_ns() - start;
  printf("%llu %llu %.2f\n", (unsigned long long)calls,
         (unsigned long long)elapsed,
         calls ? (double)elapsed / (double)calls : 0.0);
  return 0;
}
