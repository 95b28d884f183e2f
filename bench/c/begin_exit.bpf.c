// `BEGIN { exit(); }`: a program run once with BPF_PROG_TEST_RUN.
#include "bpf_common.h"

SEC("raw_tp")
int begin(void *ctx) { return 0; }
