// Workload (b): system call latency histogram.
#include "bpf_common.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u64);
} start SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, HIST_BUCKETS);
  __type(key, __u32);
  __type(value, __u64);
} hist SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int lat_sys_enter(void *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
  return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int lat_sys_exit(void *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u64 *ts = bpf_map_lookup_elem(&start, &tid);
  if (!ts || !*ts)
    return 0;
  __u32 bucket = hist_bucket((__s64)(bpf_ktime_get_ns() - *ts));
  __u64 *count = bpf_map_lookup_elem(&hist, &bucket);
  if (count)
    *count += 1;
  bpf_map_delete_elem(&start, &tid);
  return 0;
}
