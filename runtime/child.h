// -c CMD: the command hvt traces. It is started before compiling (so the
// cpid builtin knows its pid) but held before exec until every probe is
// attached, so nothing it does is missed.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace hvt {

class ChildProcess {
public:
  // Splits `command` into words like a shell (quotes, no substitutions),
  // forks, and holds the child before exec. nullopt with `error` set when
  // the command is empty or cannot be split.
  static std::optional<ChildProcess> spawn(const std::string &command,
                                           std::string &error);

  ChildProcess(ChildProcess &&other) noexcept;
  ChildProcess &operator=(ChildProcess &&) = delete;
  ChildProcess(const ChildProcess &) = delete;
  ~ChildProcess(); // terminates and reaps a child still running

  pid_t pid() const { return pid_; }

  // Lets the child exec. False with `error` set when exec failed (command
  // not found...); the child has then exited.
  bool release(std::string &error);

  // Not reaped yet: still running, or exited and readable on pidfd().
  bool running() const { return pid_ > 0 && !reaped_; }
  // Readable once the child exits (pidfd_open), -1 if unsupported.
  int pidfd() const { return pidfd_; }
  // Collects the exit status of a child that has exited (non-blocking).
  bool reap();
  // Terminates (SIGTERM, then SIGKILL) and reaps.
  void terminate();

private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int release_fd_ = -1; // write end: one byte lets the child exec
  int error_fd_ = -1;   // read end: the child's exec errno, EOF on success
  int pidfd_ = -1;
  bool reaped_ = false;
};

} // namespace hvt
