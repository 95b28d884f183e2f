// Workload (b) loader: system call latency histogram, printed at exit.
#include "loader.h"

#include "latency.skel.h"

int main(void) {
  loader_init();
  struct latency_bpf *skel = latency_bpf__open_and_load();
  if (!skel)
    return loader_fail("loading", errno);
  int err = latency_bpf__attach(skel);
  if (err) {
    latency_bpf__destroy(skel);
    return loader_fail("attaching", err);
  }
  loader_attached(2);
  loader_wait();
  latency_bpf__detach(skel);

  int fd = bpf_map__fd(skel->maps.hist);
  int ncpus = loader_ncpus();
  uint64_t *values = calloc((size_t)ncpus, sizeof(uint64_t));
  uint64_t buckets[66] = {0};
  for (uint32_t i = 0; values && i < 66; ++i)
    buckets[i] = loader_percpu_sum(fd, &i, values, ncpus);
  free(values);
  printf("\n\n");
  loader_print_hist("@ns:", buckets, 66);
  latency_bpf__destroy(skel);
  return 0;
}
