// BPF programs for the runtime's kernel tests, written by hand against the
// compiler/runtime contract (runtime/program.h) so the runtime is tested
// without the hvt compiler. The tests describe them with hand-made
// CompiledProgram metadata.
//
// Regenerate the embedded objects after editing: ./regen.sh
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned long long u64;
typedef unsigned int u32;

enum { EV_PRINTF = 1, EV_EXIT = 2, EV_PRINT_MAP = 3, EV_CLEAR_MAP = 4, EV_ZERO_MAP = 5 };
struct header { u32 kind; u32 id; };

// Map indexes in the tests' CompiledProgram::maps.
enum { MAP_CALLS = 0, MAP_H = 1, MAP_X = 2 };

struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } ringbuf SEC(".maps");
// @calls = count(): per-CPU
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 16); __type(key, u64); __type(value, u64); } map_calls SEC(".maps");
// @h = hist(n): key = bucket
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 128); __type(key, u64); __type(value, u64); } map_h SEC(".maps");
// @x = 7
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, u64); __type(value, u64); } map_x SEC(".maps");
// internal: how many events the gated probes have seen
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, u64); __type(value, u64); } gate SEC(".maps");

static __always_inline void send(u32 kind, u32 id) {
  struct header *h = bpf_ringbuf_reserve(&ringbuf, sizeof(*h), 0);
  if (!h)
    return;
  h->kind = kind;
  h->id = id;
  bpf_ringbuf_submit(h, 0);
}

// Records the first three events (@calls = count(); @h = hist(n)) and
// calls exit() on the third, even when several CPUs race.
static __always_inline void gated_count(void) {
  u64 zero = 0, *n = bpf_map_lookup_elem(&gate, &zero);
  if (!n) {
    bpf_map_update_elem(&gate, &zero, &zero, BPF_NOEXIST);
    n = bpf_map_lookup_elem(&gate, &zero);
    if (!n)
      return;
  }
  u64 count = __sync_fetch_and_add(n, 1) + 1;
  if (count > 3)
    return;
  u64 one = 1, *calls = bpf_map_lookup_elem(&map_calls, &zero);
  if (calls)
    *calls += 1;
  else
    bpf_map_update_elem(&map_calls, &zero, &one, BPF_NOEXIST);
  // hist(count): 1 -> bucket 2 ([1]), 2 and 3 -> bucket 3 ([2, 4))
  u64 bucket = count == 1 ? 2 : 3, *b = bpf_map_lookup_elem(&map_h, &bucket);
  if (b)
    *b += 1;
  else
    bpf_map_update_elem(&map_h, &bucket, &one, BPF_NOEXIST);
  if (count == 3)
    send(EV_EXIT, 0);
}

// BEGIN { printf("hello %d %s\n", 42, "world"); @x = 7; print(@x); }
SEC("raw_tp") int begin_hello(void *ctx) {
  struct {
    struct header h;
    long long n;
    char s[8];
  } *ev = bpf_ringbuf_reserve(&ringbuf, sizeof(*ev), 0);
  if (ev) {
    ev->h.kind = EV_PRINTF;
    ev->h.id = 0;
    ev->n = 42;
    __builtin_memcpy(ev->s, "world\0\0", 8);
    bpf_ringbuf_submit(ev, 0);
  }
  u64 zero = 0, seven = 7;
  bpf_map_update_elem(&map_x, &zero, &seven, BPF_ANY);
  struct {
    struct header h;
    u64 top, div;
  } *pm = bpf_ringbuf_reserve(&ringbuf, sizeof(*pm), 0);
  if (pm) {
    pm->h.kind = EV_PRINT_MAP;
    pm->h.id = MAP_X;
    pm->top = 0;
    pm->div = 1;
    bpf_ringbuf_submit(pm, 0);
  }
  return 0;
}

// BEGIN { exit(); printf("bye\n"); } -- the printf must not show
SEC("raw_tp") int begin_exit(void *ctx) {
  send(EV_EXIT, 0);
  send(EV_PRINTF, 1);
  return 0;
}

// END { printf("bye\n"); }
SEC("raw_tp") int end_bye(void *ctx) {
  send(EV_PRINTF, 1);
  return 0;
}

// END { zero(@calls); clear(@h); }
SEC("raw_tp") int end_reset(void *ctx) {
  send(EV_ZERO_MAP, MAP_CALLS);
  send(EV_CLEAR_MAP, MAP_H);
  return 0;
}

// Set by tests that load this object themselves: count only this process.
u32 target_tgid = 0;

// tracepoint:syscalls:sys_enter_getpid /comm == "runtime_tests"/ { ... }
SEC("tracepoint/syscalls/sys_enter_getpid") int on_getpid(void *ctx) {
  if (target_tgid && (u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
    return 0;
  char comm[16];
  bpf_get_current_comm(comm, sizeof(comm));
  const char want[] = "runtime_tests";
  for (int i = 0; i < sizeof(want); i++)
    if (comm[i] != want[i])
      return 0;
  gated_count();
  return 0;
}

// interval/profile/software: count ticks, exit on the third
SEC("perf_event") int on_tick(void *ctx) {
  gated_count();
  return 0;
}

// uprobe on hvt_runtime_test_target() in the test binary
SEC("uprobe") int on_uprobe(void *ctx) {
  gated_count();
  return 0;
}

// kprobe: only loads; kernels without kprobes fail to attach it
SEC("kprobe") int on_kprobe(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
