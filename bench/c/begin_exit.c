// `BEGIN { exit(); }` loader: loads one program, runs it once, exits.
#include "loader.h"

#include "begin_exit.skel.h"

int main(void) {
  loader_init();
  struct begin_exit_bpf *skel = begin_exit_bpf__open_and_load();
  if (!skel)
    return loader_fail("loading", errno);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.begin), &opts);
  loader_attached(1);
  begin_exit_bpf__destroy(skel);
  return err ? loader_fail("running BEGIN", err) : 0;
}
