#include "hvt_process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <linux/bpf.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hvt::test {

HvtProcess::HvtProcess(const std::vector<std::string> &args,
                       const std::string &stdin_text) {
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
    return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char *> argv;
    std::string binary = HVT_BINARY;
    argv.push_back(binary.data());
    for (const auto &a : args)
      argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(in[0]);
  if (!stdin_text.empty())
    (void)!write(in[1], stdin_text.data(), stdin_text.size());
  close(in[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

HvtProcess::~HvtProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0)
    close(out_fd_);
  if (err_fd_ >= 0)
    close(err_fd_);
}

void HvtProcess::pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0)
    return;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    if (!(fds[i].revents & (POLLIN | POLLHUP)))
      continue;
    ssize_t n = read(fds[i].fd, buf, sizeof buf);
    if (n > 0)
      (i == 0 ? out_ : err_).append(buf, n);
  }
}

bool HvtProcess::wait_for_stdout(const std::string &text,
                                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1; // exited early
      pump(0);
      return out_.find(text) != std::string::npos;
    }
    pump(50);
  }
  return true;
}

void HvtProcess::signal(int sig) {
  if (pid_ > 0)
    kill(pid_, sig);
}

Finished HvtProcess::finish(std::chrono::milliseconds timeout) {
  Finished result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  bool exited = pid_ < 0;
  while (!exited) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited = true;
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      pid_ = -1;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      break;
    }
    pump(20);
  }
  // Drain what is left in the pipes.
  for (int i = 0; i < 50; ++i) {
    size_t before = out_.size() + err_.size();
    pump(10);
    if (out_.size() + err_.size() == before)
      break;
  }
  result.out = out_;
  result.err = err_;
  return result;
}

Finished run_hvt(const std::vector<std::string> &args,
                 std::chrono::milliseconds timeout,
                 const std::string &stdin_text) {
  HvtProcess process(args, stdin_text);
  return process.finish(timeout);
}

bool PrivateCacheDir::create() {
  char templ[] = "/tmp/hvt-test-cache-XXXXXX";
  if (!mkdtemp(templ))
    return false;
  root_ = templ;
  dir_ = root_ + "/cache";
  setenv("HVT_CACHE_DIR", dir_.c_str(), 1);
  return true;
}

PrivateCacheDir::~PrivateCacheDir() {
  if (root_.empty())
    return;
  unsetenv("HVT_CACHE_DIR");
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

bool bpf_available(std::string &why) {
  if (geteuid() != 0) {
    why = "kernel tests need root";
    return false;
  }
  // BPF_PROG_LOAD with no attributes fails with EINVAL when bpf() exists,
  // ENOSYS/EPERM when it does not or is locked down.
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  long rc = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (rc < 0 && (errno == ENOSYS || errno == EPERM)) {
    why = std::string("the bpf() syscall is unavailable: ") + strerror(errno);
    return false;
  }
  return true;
}

} // namespace hvt::test
