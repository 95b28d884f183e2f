// Workload (d) loader: prints one line per record of the traced process.
// Usage: printf PID
#include "loader.h"

#include "printf.skel.h"

struct record {
  uint64_t tid;
  int64_t id;
};

static int on_record(void *ctx, void *data, size_t size) {
  (void)ctx;
  if (size < sizeof(struct record))
    return 0;
  const struct record *r = data;
  printf("%llu %lld\n", (unsigned long long)r->tid, (long long)r->id);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PID\n", argv[0]);
    return 1;
  }
  loader_init();
  struct printf_bpf *skel = printf_bpf__open();
  if (!skel)
    return loader_fail("opening", errno);
  skel->rodata->target_pid = (uint32_t)strtoul(argv[1], NULL, 10);
  int err = printf_bpf__load(skel);
  if (!err)
    err = printf_bpf__attach(skel);
  if (err) {
    printf_bpf__destroy(skel);
    return loader_fail("loading and attaching", err);
  }
  struct ring_buffer *rb =
      ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL, NULL);
  if (!rb) {
    printf_bpf__destroy(skel);
    return loader_fail("opening the ring buffer", errno);
  }
  loader_attached(1);
  while (!loader_stop) {
    int n = ring_buffer__poll(rb, 100);
    if (n < 0 && n != -EINTR)
      break;
  }
  printf_bpf__detach(skel);
  ring_buffer__consume(rb);
  fflush(stdout);
  ring_buffer__free(rb);
  printf_bpf__destroy(skel);
  return 0;
}
