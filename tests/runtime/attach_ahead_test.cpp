// Tracepoints' perf events opened ahead of attaching (runtime/attach_ahead.h):
// each is opened once and handed over once; the rest is released.
#include "attach_ahead.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace hvt {
namespace {

constexpr const char *kGetppid = "syscalls:sys_enter_getppid";
constexpr const char *kGetuid = "syscalls:sys_enter_getuid";

// The perf events this process holds open.
size_t perf_events_held() {
  size_t held = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    auto target = std::filesystem::read_symlink(entry.path(), error);
    held += !error && target == "anon_inode:[perf_event]";
  }
  return held;
}

// How many times the event behind `fd` fired: the events are opened for CPU
// 0, so the calls are made there.
uint64_t count_of(int fd) {
  uint64_t count = 0;
  EXPECT_EQ(read(fd, &count, sizeof count), ssize_t(sizeof count));
  return count;
}

class PerfEventsAheadTest : public ::testing::Test {
protected:
  void SetUp() override {
    PerfEventsAhead probe;
    probe.open({kGetppid});
    int fd = probe.take(kGetppid);
    if (fd < 0)
      GTEST_SKIP() << "tracepoint perf events unavailable: " << strerror(errno);
    close(fd);
    // Events nobody took go to a background process (detach.h), orphaned
    // on purpose: as a subreaper this process can wait for it.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    CPU_ZERO(&cpu0_);
    CPU_SET(0, &cpu0_);
    ASSERT_EQ(sched_getaffinity(0, sizeof saved_, &saved_), 0);
  }
  void TearDown() override {
    sched_setaffinity(0, sizeof saved_, &saved_);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  // Runs `calls` getppid() on CPU 0, where the events count.
  void getppid_on_cpu0(int calls) {
    ASSERT_EQ(sched_setaffinity(0, sizeof cpu0_, &cpu0_), 0);
    for (int i = 0; i < calls; ++i)
      syscall(SYS_getppid);
    ASSERT_EQ(sched_setaffinity(0, sizeof saved_, &saved_), 0);
  }

  cpu_set_t cpu0_, saved_;
};

TEST_F(PerfEventsAheadTest, EachEventIsTheTracepointsAndIsTakenOnce) {
  PerfEventsAhead ahead;
  ahead.open({kGetppid, kGetuid, kGetppid, "no_such_category:no_such_event"});
  int first = ahead.take(kGetppid);
  int second = ahead.take(kGetppid);
  int uid = ahead.take(kGetuid);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  ASSERT_GE(uid, 0);
  EXPECT_NE(first, second);
  EXPECT_EQ(ahead.take(kGetppid), -1) << "opened twice, taken a third time";
  EXPECT_EQ(ahead.take("no_such_category:no_such_event"), -1);
  EXPECT_EQ(ahead.take("sched:sched_switch"), -1) << "never asked for";

  // Each counts its own tracepoint, enabled already.
  uint64_t before = count_of(first), uid_before = count_of(uid);
  getppid_on_cpu0(5);
  EXPECT_GE(count_of(first) - before, 5u);
  EXPECT_GE(count_of(second), 5u);
  EXPECT_EQ(count_of(uid), uid_before) << "getuid's event saw getppid";
  for (int fd : {first, second, uid})
    close(fd);
}

TEST_F(PerfEventsAheadTest, TheFirstOpenWinsAndATakeEndsOpening) {
  PerfEventsAhead ahead;
  ahead.open({kGetppid});
  ahead.open({kGetuid}); // too late: nothing more is opened
  EXPECT_EQ(ahead.take(kGetuid), -1);
  int fd = ahead.take(kGetppid);
  EXPECT_GE(fd, 0);
  close(fd);

  PerfEventsAhead taken_first;
  EXPECT_EQ(taken_first.take(kGetppid), -1);
  size_t held = perf_events_held();
  taken_first.open({kGetppid}); // the attach went on without it
  EXPECT_EQ(perf_events_held(), held);
  EXPECT_FALSE(taken_first.start({kGetppid, kGetuid}, 1));
}

TEST_F(PerfEventsAheadTest, StartsAThreadOnlyFromEnoughTracepoints) {
  PerfEventsAhead few;
  EXPECT_FALSE(few.start({kGetppid}, 2));
  EXPECT_FALSE(few.start({}, 0));
  EXPECT_EQ(few.take(kGetppid), -1);

  PerfEventsAhead enough;
  ASSERT_TRUE(enough.start({kGetppid, kGetuid}, 2));
  EXPECT_FALSE(enough.start({kGetppid, kGetuid}, 2)) << "started twice";
  // take() waits for the thread's open.
  int ppid = enough.take(kGetppid), uid = enough.take(kGetuid);
  EXPECT_GE(ppid, 0);
  EXPECT_GE(uid, 0);
  close(ppid);
  close(uid);
}

TEST_F(PerfEventsAheadTest, EventsNobodyTookAreReleased) {
  size_t held = perf_events_held();
  {
    PerfEventsAhead ahead;
    ASSERT_TRUE(ahead.start({kGetppid, kGetuid, kGetppid}, 1));
    int fd = ahead.take(kGetuid);
    ASSERT_GE(fd, 0);
    close(fd);
    EXPECT_EQ(perf_events_held(), held + 2);
  }
  EXPECT_EQ(perf_events_held(), held);
}

} // namespace
} // namespace hvt
