// Shared kernel-side definitions of the hand-written contenders: tracepoint
// records as the format files describe them (no vmlinux.h needed) and
// bpftrace's power-of-two histogram bucket.
#pragma once

// Order matters: bpf_helpers.h needs the kernel types first.
#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>

// /sys/kernel/tracing/events/raw_syscalls/sys_enter/format
struct sys_enter_record {
  __u64 common; // common_type, common_flags, common_preempt_count, common_pid
  long id;
  unsigned long args[6];
};

// /sys/kernel/tracing/events/kvm/kvm_exit/format
struct kvm_exit_record {
  __u64 common;
  unsigned int exit_reason;
  unsigned long guest_rip;
  __u32 isa;
  __u64 info1;
  __u64 info2;
  __u32 intr_info;
  __u32 error_code;
  unsigned int vcpu_id;
  __u64 requests;
};

// Number of power-of-two buckets: negative, zero, then 64 powers of two.
#define HIST_BUCKETS 66

// Branch-free floor(log2(v)) of a non-zero 64-bit value (the libbpf-tools
// idiom, widened to 64 bits).
static __always_inline __u32 log2_u64(__u64 v) {
  __u32 r = (v > 0xFFFFFFFFULL) << 5;
  v >>= r;
  __u32 shift = (v > 0xFFFF) << 4;
  v >>= shift;
  r |= shift;
  shift = (v > 0xFF) << 3;
  v >>= shift;
  r |= shift;
  shift = (v > 0xF) << 2;
  v >>= shift;
  r |= shift;
  shift = (v > 0x3) << 1;
  v >>= shift;
  r |= shift;
  r |= (__u32)(v >> 1);
  return r;
}

// bpftrace's hist() bucket: 0 for negative values, 1 for zero, 2 + log2(v).
static __always_inline __u32 hist_bucket(__s64 v) {
  if (v < 0)
    return 0;
  if (v == 0)
    return 1;
  return 2 + log2_u64((__u64)v);
}

char LICENSE[] SEC("license") = "GPL";
