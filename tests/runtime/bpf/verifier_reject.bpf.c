// A BEGIN program the verifier rejects (reads past its context), for the
// runtime's load-error test. Regenerate the embedded objects: ./regen.sh
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("raw_tp") int begin_bad(void *ctx) {
  return *(volatile long *)((char *)ctx + 4096);
}

char LICENSE[] SEC("license") = "GPL";
