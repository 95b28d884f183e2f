// Workload (a): count system calls per thread.
#include "bpf_common.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  // Keys appear rarely: allocated then, not all 4096 at load (as hvt does).
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_sys_enter(void *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u64 *value = bpf_map_lookup_elem(&counts, &tid);
  if (value) {
    *value += 1;
  } else {
    __u64 one = 1;
    bpf_map_update_elem(&counts, &tid, &one, BPF_NOEXIST);
  }
  return 0;
}
