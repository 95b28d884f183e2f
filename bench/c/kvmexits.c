// Workload (c) loader: KVM exit-to-entry latency per exit reason, printed at
// exit with the reason names (VMX numbering, arch/x86/include/uapi/asm/vmx.h).
#include "loader.h"

#include "kvmexits.skel.h"

static const char *const vmx_reasons[] = {
    [0] = "EXCEPTION_NMI",
    [1] = "EXTERNAL_INTERRUPT",
    [2] = "TRIPLE_FAULT",
    [3] = "INIT_SIGNAL",
    [4] = "SIPI_SIGNAL",
    [7] = "INTERRUPT_WINDOW",
    [8] = "NMI_WINDOW",
    [9] = "TASK_SWITCH",
    [10] = "CPUID",
    [12] = "HLT",
    [13] = "INVD",
    [14] = "INVLPG",
    [15] = "RDPMC",
    [16] = "RDTSC",
    [18] = "VMCALL",
    [19] = "VMCLEAR",
    [20] = "VMLAUNCH",
    [21] = "VMPTRLD",
    [22] = "VMPTRST",
    [23] = "VMREAD",
    [24] = "VMRESUME",
    [25] = "VMWRITE",
    [26] = "VMOFF",
    [27] = "VMON",
    [28] = "CR_ACCESS",
    [29] = "DR_ACCESS",
    [30] = "IO_INSTRUCTION",
    [31] = "MSR_READ",
    [32] = "MSR_WRITE",
    [33] = "INVALID_STATE",
    [34] = "MSR_LOAD_FAIL",
    [36] = "MWAIT_INSTRUCTION",
    [37] = "MONITOR_TRAP_FLAG",
    [39] = "MONITOR_INSTRUCTION",
    [40] = "PAUSE_INSTRUCTION",
    [41] = "MCE_DURING_VMENTRY",
    [43] = "TPR_BELOW_THRESHOLD",
    [44] = "APIC_ACCESS",
    [45] = "EOI_INDUCED",
    [46] = "GDTR_IDTR",
    [47] = "LDTR_TR",
    [48] = "EPT_VIOLATION",
    [49] = "EPT_MISCONFIG",
    [50] = "INVEPT",
    [51] = "RDTSCP",
    [52] = "PREEMPTION_TIMER",
    [53] = "INVVPID",
    [54] = "WBINVD",
    [55] = "XSETBV",
    [56] = "APIC_WRITE",
    [57] = "RDRAND",
    [58] = "INVPCID",
    [59] = "VMFUNC",
    [60] = "ENCLS",
    [61] = "RDSEED",
    [62] = "PML_FULL",
    [63] = "XSAVES",
    [64] = "XRSTORS",
    [67] = "UMWAIT",
    [68] = "TPAUSE",
    [74] = "BUS_LOCK",
    [75] = "NOTIFY",
};

struct hist_key {
  uint64_t reason;
  uint64_t bucket;
};

static const char *reason_name(uint64_t reason) {
  size_t n = sizeof(vmx_reasons) / sizeof(vmx_reasons[0]);
  return reason < n && vmx_reasons[reason] ? vmx_reasons[reason] : "";
}

// One histogram per reason, in the order the kernel returns the keys.
static void print_hists(int fd) {
  int ncpus = loader_ncpus();
  uint64_t *values = calloc((size_t)ncpus, sizeof(uint64_t));
  uint64_t reasons[256];
  size_t nreasons = 0;
  struct hist_key key, next, *prev = NULL;
  while (values && bpf_map_get_next_key(fd, prev, &next) == 0) {
    size_t i = 0;
    while (i < nreasons && reasons[i] != next.reason)
      ++i;
    if (i == nreasons && nreasons < 256)
      reasons[nreasons++] = next.reason;
    key = next;
    prev = &key;
  }
  printf("\n\n");
  for (size_t r = 0; r < nreasons; ++r) {
    uint64_t buckets[66] = {0};
    for (uint64_t b = 0; b < 66; ++b) {
      struct hist_key k = {reasons[r], b};
      buckets[b] = loader_percpu_sum(fd, &k, values, ncpus);
    }
    char header[96];
    snprintf(header, sizeof(header),
             "@exit_ns[%llu, %s]:", (unsigned long long)reasons[r],
             reason_name(reasons[r]));
    loader_print_hist(header, buckets, 66);
  }
  free(values);
}

int main(void) {
  loader_init();
  struct kvmexits_bpf *skel = kvmexits_bpf__open_and_load();
  if (!skel)
    return loader_fail("loading", errno);
  int err = kvmexits_bpf__attach(skel);
  if (err) {
    kvmexits_bpf__destroy(skel);
    return loader_fail("attaching", err);
  }
  loader_attached(2);
  printf("Tracing KVM exit latency... Hit Ctrl-C to end.\n");
  fflush(stdout);
  loader_wait();
  kvmexits_bpf__detach(skel);
  print_hists(bpf_map__fd(skel->maps.exit_ns));
  kvmexits_bpf__destroy(skel);
  return 0;
}
