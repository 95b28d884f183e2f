// Detaching many probes (runtime/detach.h): tasks run concurrently, and perf
// events are handed to a background process that holds nothing else.
#include "detach.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

namespace hvt {
namespace {

using namespace std::chrono_literals;

TEST(RunConcurrently, RunsEachTaskOnce) {
  for (size_t count :
       {size_t{0}, size_t{1}, size_t{3}, kMaxDetachThreads + 7}) {
    std::vector<std::atomic<int>> runs(count);
    run_concurrently(count, [&](size_t i) { ++runs[i]; });
    for (size_t i = 0; i < count; ++i)
      EXPECT_EQ(runs[i].load(), 1) << "task " << i << " of " << count;
  }
}

// Tasks that each wait for all the others to start can only finish when they
// run at the same time, as links waiting in the kernel must.
TEST(RunConcurrently, TasksRunAtTheSameTime) {
  constexpr size_t kTasks = 8;
  std::atomic<size_t> started{0};
  std::atomic<size_t> saw_all{0};
  run_concurrently(kTasks, [&](size_t) {
    ++started;
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (started.load() < kTasks &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    if (started.load() == kTasks)
      ++saw_all;
  });
  EXPECT_EQ(saw_all.load(), kTasks);
}

int open_dummy_event() {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_DUMMY;
  return static_cast<int>(
      syscall(__NR_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

// `count` events, fewer if some could not be opened.
std::vector<int> open_dummy_events(int count) {
  std::vector<int> events;
  for (int i = 0; i < count; ++i)
    if (int fd = open_dummy_event(); fd >= 0)
      events.push_back(fd);
  return events;
}

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// Children of this process named hvt-detach (reparented here: see below).
std::vector<pid_t> background_children() {
  std::vector<pid_t> found;
  for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = atoi(entry.path().filename().c_str());
    if (pid <= 0)
      continue;
    std::ifstream in(entry.path() / "stat");
    std::string line;
    std::getline(in, line);
    size_t close_paren = line.rfind(')');
    if (close_paren == std::string::npos)
      continue;
    char state = 0;
    int ppid = 0;
    if (sscanf(line.c_str() + close_paren + 1, " %c %d", &state, &ppid) == 2 &&
        ppid == getpid() && comm_of(pid) == "hvt-detach")
      found.push_back(pid);
  }
  return found;
}

class ReleasePerfEvents : public ::testing::Test {
protected:
  void SetUp() override {
    int fd = open_dummy_event();
    if (fd < 0)
      GTEST_SKIP() << "perf events unavailable: " << strerror(errno);
    close(fd);
    // The background process is orphaned on purpose; as a subreaper this
    // process becomes its parent and can wait for it.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }
  void TearDown() override { prctl(PR_SET_CHILD_SUBREAPER, 0); }
};

TEST_F(ReleasePerfEvents, ClosedHereAndReleasedByABackgroundProcess) {
  std::vector<int> events = open_dummy_events(3);
  ASSERT_EQ(events.size(), 3u);
  release_perf_events(events);
  for (int fd : events)
    EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "fd " << fd << " still open here";
  std::vector<pid_t> background = background_children();
  ASSERT_EQ(background.size(), 1u);
  int status = 0;
  ASSERT_EQ(waitpid(background[0], &status, 0), background[0]);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// The perf events `pid` holds open.
size_t perf_events_held(pid_t pid) {
  size_t held = 0;
  std::error_code error;
  for (const auto &entry : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code link_error;
    auto target = std::filesystem::read_symlink(entry.path(), link_error);
    held += !link_error && target == "anon_inode:[perf_event]";
  }
  return held;
}

// Whoever closes an event last pays for its release (a grace period each,
// for tracepoints and uprobes): the background process must not close its
// copies before this process has closed its own.
TEST_F(ReleasePerfEvents, TheBackgroundProcessClosesThemLast) {
  std::vector<int> events = open_dummy_events(3);
  ASSERT_EQ(events.size(), 3u);
  pid_t background = 0;
  size_t held_while_here_open = 0;
  release_perf_events(events, [&] {
    std::vector<pid_t> found = background_children();
    if (found.size() != 1)
      return;
    background = found[0];
    // Given time to close them, it still holds them all: it waits for us.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    held_while_here_open = perf_events_held(background);
  });
  ASSERT_NE(background, 0) << "no background process was started";
  EXPECT_EQ(held_while_here_open, events.size());
  int status = 0;
  ASSERT_EQ(waitpid(background, &status, 0), background);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ReleasePerfEvents, NothingToReleaseStartsNoProcess) {
  release_perf_events({});
  EXPECT_TRUE(background_children().empty());
}

} // namespace
} // namespace hvt
