// Workload (a) loader: per-thread system call counts, printed at exit.
#include "loader.h"

#include "count.skel.h"

struct entry {
  uint32_t tid;
  uint64_t count;
};

static int by_count(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  return x->count < y->count ? -1 : x->count > y->count;
}

static void print_counts(int fd) {
  int ncpus = loader_ncpus();
  uint64_t *values = calloc((size_t)ncpus, sizeof(uint64_t));
  size_t cap = 256, n = 0;
  struct entry *entries = malloc(cap * sizeof(*entries));
  uint32_t key, next;
  uint32_t *prev = NULL;
  while (values && entries && bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (n == cap) {
      struct entry *grown = realloc(entries, 2 * cap * sizeof(*entries));
      if (!grown)
        break;
      entries = grown;
      cap *= 2;
    }
    entries[n].tid = next;
    entries[n].count = loader_percpu_sum(fd, &next, values, ncpus);
    ++n;
    key = next;
    prev = &key;
  }
  qsort(entries, n, sizeof(*entries), by_count);
  printf("\n\n");
  for (size_t i = 0; i < n; ++i)
    printf("@[%u]: %llu\n", entries[i].tid,
           (unsigned long long)entries[i].count);
  free(entries);
  free(values);
}

int main(void) {
  loader_init();
  struct count_bpf *skel = count_bpf__open_and_load();
  if (!skel)
    return loader_fail("loading", errno);
  int err = count_bpf__attach(skel);
  if (err) {
    count_bpf__destroy(skel);
    return loader_fail("attaching", err);
  }
  loader_attached(1);
  loader_wait();
  count_bpf__detach(skel);
  print_counts(bpf_map__fd(skel->maps.counts));
  count_bpf__destroy(skel);
  return 0;
}
