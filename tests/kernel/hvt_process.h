// Spawns the real `hvt` binary for kernel runtime tests and collects its
// output. Tests talk to hvt only through its command line, like a user.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace hvt::test {

struct Finished {
  int exit_code = -1; // -1: killed by a signal or timed out
  std::string out, err;
};

class HvtProcess {
public:
  explicit HvtProcess(const std::vector<std::string> &args,
                      const std::string &stdin_text = "");
  ~HvtProcess();
  HvtProcess(const HvtProcess &) = delete;
  HvtProcess &operator=(const HvtProcess &) = delete;

  // Reads output until `text` shows on stdout or the timeout passes.
  bool wait_for_stdout(const std::string &text, std::chrono::milliseconds timeout);
  void signal(int sig);
  // Waits for exit (killing hvt after the timeout) and returns all output.
  Finished finish(std::chrono::milliseconds timeout);
  int pid() const { return pid_; }

private:
  void pump(int timeout_ms);
  int pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
};

// Runs hvt to completion.
Finished run_hvt(const std::vector<std::string> &args,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30),
                 const std::string &stdin_text = "");

// A compile cache of the test's own: a fresh directory under /tmp, with
// $HVT_CACHE_DIR naming `dir()` (root()/cache, not created) for every hvt
// the test starts. Removed, and the variable unset, when it goes.
class PrivateCacheDir {
public:
  PrivateCacheDir() = default;
  ~PrivateCacheDir();
  PrivateCacheDir(const PrivateCacheDir &) = delete;
  PrivateCacheDir &operator=(const PrivateCacheDir &) = delete;

  // False when the directory cannot be made.
  bool create();
  const std::string &root() const { return root_; }
  const std::string &dir() const { return dir_; }

private:
  std::string root_, dir_;
};

// True when this machine can load BPF programs (root and a BPF syscall).
// Tests skip, saying why, only when it is false.
bool bpf_available(std::string &why);

} // namespace hvt::test
