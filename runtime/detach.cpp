#include "detach.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace hvt {

namespace {

// Small stacks: a task only closes files (libbpf's bpf_link__destroy()).
constexpr size_t kTaskStackBytes = 256 * 1024;

struct TaskQueue {
  const std::function<void(size_t)> *task;
  size_t count;
  std::atomic<size_t> next{0};

  void drain() {
    for (size_t i = next++; i < count; i = next++)
      (*task)(i);
  }
};

void *drain_queue(void *queue) {
  static_cast<TaskQueue *>(queue)->drain();
  return nullptr;
}

// Closes every file of this process but `keep` (sorted), with system calls
// only: it runs in a child forked from a process with threads.
void close_all_but(const std::vector<int> &keep) {
  unsigned first = 0;
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > first)
      close_range(first, static_cast<unsigned>(fd) - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  close_range(first, ~0u, 0);
}

} // namespace

void run_concurrently(size_t count, const std::function<void(size_t)> &task) {
  TaskQueue queue{&task, count};
  std::vector<pthread_t> threads;
  size_t wanted = std::min(count, kMaxDetachThreads);
  // This thread takes tasks too, so one task needs no thread.
  if (wanted > 1) {
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) == 0) {
      pthread_attr_setstacksize(&attributes, kTaskStackBytes);
      threads.reserve(wanted - 1);
      for (size_t i = 0; i + 1 < wanted; ++i) {
        pthread_t thread;
        if (pthread_create(&thread, &attributes, drain_queue, &queue) != 0)
          break; // the threads started, and this one, do the rest
        threads.push_back(thread);
      }
      pthread_attr_destroy(&attributes);
    }
  }
  queue.drain();
  for (pthread_t thread : threads)
    pthread_join(thread, nullptr);
}

void release_perf_events(const std::vector<int> &perf_fds,
                         const std::function<void()> &before_closing_here) {
  if (perf_fds.empty())
    return;
  // Disabled, an event records nothing more while it waits to be released.
  for (int fd : perf_fds)
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  // Whoever closes an event last releases it: the background process waits
  // until this one has closed its copies (end of file on `parent_done`).
  int parent_done[2];
  bool piped = pipe2(parent_done, O_CLOEXEC) == 0;
  if (piped) {
    std::vector<int> keep(perf_fds);
    keep.push_back(parent_done[0]);
    std::sort(keep.begin(), keep.end());
    // Forked twice, so that the process closing them is nobody's child to
    // wait for: it is reparented to init once the first child exits.
    pid_t child = fork();
    if (child == 0) {
      // Named before the second fork: the process is never seen unnamed.
      prctl(PR_SET_NAME, "hvt-detach", 0, 0, 0);
      if (fork() == 0) {
        setsid(); // no terminal: Ctrl-C in it reaches only hvt
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, nullptr);
        // Holding no other file: a pipe hvt writes to ends when hvt does.
        close_all_but(keep);
        char byte;
        while (read(parent_done[0], &byte, 1) < 0 && errno == EINTR) {
        }
        for (int fd : perf_fds)
          close(fd);
      }
      _exit(0);
    }
    if (child > 0)
      waitpid(child, nullptr, 0);
  }
  if (before_closing_here)
    before_closing_here();
  // The last references when no process took them: released here, slowly.
  for (int fd : perf_fds)
    close(fd);
  if (piped) {
    close(parent_done[0]);
    close(parent_done[1]);
  }
}

} // namespace hvt
