// Workload (d): one record per system call of one process, through a ring
// buffer; user space formats it.
#include "bpf_common.h"

struct record {
  __u64 tid;
  __s64 id;
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

const volatile __u32 target_pid = 0;

SEC("tracepoint/raw_syscalls/sys_enter")
int printf_sys_enter(struct sys_enter_record *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if ((pid_tgid >> 32) != target_pid)
    return 0;
  struct record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r)
    return 0;
  r->tid = (__u32)pid_tgid;
  r->id = ctx->id;
  bpf_ringbuf_submit(r, 0);
  return 0;
}
