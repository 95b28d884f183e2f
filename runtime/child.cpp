#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace hvt {

namespace {

void close_fd(int &fd) {
  if (fd >= 0)
    close(fd);
  fd = -1;
}

} // namespace

std::optional<ChildProcess> ChildProcess::spawn(const std::string &command,
                                                std::string &error) {
  wordexp_t words{};
  int rc = wordexp(command.c_str(), &words, WRDE_NOCMD | WRDE_UNDEF);
  if (rc != 0) {
    error = rc == WRDE_CMDSUB ? "command substitution is not supported"
            : rc == WRDE_BADCHAR
                ? "unquoted shell special characters (| & ; < > ( ) { }) are "
                  "not supported; wrap the command in sh -c '...'"
            : rc == WRDE_BADVAL ? "it uses an undefined shell variable"
                                : "cannot split the command into words";
    if (rc == WRDE_NOSPACE)
      wordfree(&words);
    return std::nullopt;
  }
  if (words.we_wordc == 0) {
    wordfree(&words);
    error = "the command is empty";
    return std::nullopt;
  }
  int release[2], status[2];
  if (pipe2(release, O_CLOEXEC) != 0) {
    wordfree(&words);
    error = strerror(errno);
    return std::nullopt;
  }
  if (pipe2(status, O_CLOEXEC) != 0) {
    close(release[0]);
    close(release[1]);
    wordfree(&words);
    error = strerror(errno);
    return std::nullopt;
  }
  pid_t pid = fork();
  if (pid == 0) {
    // Held here until hvt has attached every probe; EOF means hvt gave up.
    close(release[1]);
    close(status[0]);
    char go = 0;
    ssize_t n;
    do
      n = read(release[0], &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
      _exit(127);
    signal(SIGPIPE, SIG_DFL);
    execvp(words.we_wordv[0], words.we_wordv);
    int e = errno;
    (void)!write(status[1], &e, sizeof(e));
    _exit(127);
  }
  wordfree(&words);
  close(release[0]);
  close(status[1]);
  if (pid < 0) {
    error = strerror(errno);
    close(release[1]);
    close(status[0]);
    return std::nullopt;
  }
  ChildProcess child;
  child.pid_ = pid;
  child.release_fd_ = release[1];
  child.error_fd_ = status[0];
  child.pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  return child;
}

ChildProcess::ChildProcess(ChildProcess &&other) noexcept
    : pid_(other.pid_), release_fd_(other.release_fd_),
      error_fd_(other.error_fd_), pidfd_(other.pidfd_), reaped_(other.reaped_) {
  other.pid_ = -1;
  other.release_fd_ = other.error_fd_ = other.pidfd_ = -1;
}

ChildProcess::~ChildProcess() {
  terminate();
  close_fd(release_fd_);
  close_fd(error_fd_);
  close_fd(pidfd_);
}

bool ChildProcess::release(std::string &error) {
  char go = 1;
  ssize_t n = write(release_fd_, &go, 1);
  close_fd(release_fd_);
  if (n != 1) {
    error = "the command exited before it could start";
    return false;
  }
  // The status pipe closes on a successful exec (O_CLOEXEC) or carries
  // exec's errno.
  int e = 0;
  do
    n = read(error_fd_, &e, sizeof(e));
  while (n < 0 && errno == EINTR);
  close_fd(error_fd_);
  if (n == sizeof(e)) {
    error = strerror(e);
    reap();
    return false;
  }
  return true;
}

bool ChildProcess::reap() {
  if (!running())
    return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_)
    return false;
  reaped_ = true;
  return true;
}

void ChildProcess::terminate() {
  if (!running())
    return;
  close_fd(release_fd_); // a held child exits on EOF
  if (reap())
    return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100 && !reap(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (running()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
}

} // namespace hvt
