// Workload (c): time from kvm_exit to the next kvm_entry on the same thread,
// as a histogram per exit reason. Reason names are user space's business.
#include "bpf_common.h"

struct exit_start {
  __u64 ns;
  __u64 reason;
};

struct hist_key {
  __u64 reason;
  __u64 bucket;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct exit_start);
} start SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  // Keys appear rarely: allocated then, not all 4096 at load (as hvt does).
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 4096);
  __type(key, struct hist_key);
  __type(value, __u64);
} exit_ns SEC(".maps");

SEC("tracepoint/kvm/kvm_exit")
int kvm_exit(struct kvm_exit_record *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct exit_start s = {bpf_ktime_get_ns(), ctx->exit_reason};
  bpf_map_update_elem(&start, &tid, &s, BPF_ANY);
  return 0;
}

SEC("tracepoint/kvm/kvm_entry")
int kvm_entry(void *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct exit_start *s = bpf_map_lookup_elem(&start, &tid);
  if (!s)
    return 0;
  struct hist_key key = {s->reason,
                         hist_bucket((__s64)(bpf_ktime_get_ns() - s->ns))};
  __u64 *count = bpf_map_lookup_elem(&exit_ns, &key);
  if (count) {
    *count += 1;
  } else {
    __u64 one = 1;
    bpf_map_update_elem(&exit_ns, &key, &one, BPF_NOEXIST);
  }
  bpf_map_delete_elem(&start, &tid);
  return 0;
}
