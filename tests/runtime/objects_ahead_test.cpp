// Kernel objects made ahead of the load (runtime/objects_ahead.h): each map
// and perf event is made once and handed over once; the rest is let go.
#include "objects_ahead.h"

#include <bpf/bpf.h>

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

// Attach points of kind Tracepoint, one per name.
std::vector<ProbeDesc>
tracepoint_points(const std::vector<std::string> &names) {
  std::vector<ProbeDesc> points;
  for (const std::string &name : names) {
    ProbeDesc point;
    point.kind = ProbeKind::Tracepoint;
    point.target = name;
    points.push_back(point);
  }
  return points;
}

class ObjectsAheadTest : public ::testing::Test {
protected:
  void SetUp() override {
    KernelObjectsAhead probe;
    probe.make({}, {kGetppid});
    int fd = probe.take_perf_event(kGetppid);
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

TEST_F(ObjectsAheadTest, EachEventIsTheTracepointsAndIsTakenOnce) {
  KernelObjectsAhead ahead;
  ahead.make({},
             {kGetppid, kGetuid, kGetppid, "no_such_category:no_such_event"});
  int first = ahead.take_perf_event(kGetppid);
  int second = ahead.take_perf_event(kGetppid);
  int uid = ahead.take_perf_event(kGetuid);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  ASSERT_GE(uid, 0);
  EXPECT_NE(first, second);
  EXPECT_EQ(ahead.take_perf_event(kGetppid), -1)
      << "opened twice, taken a third time";
  EXPECT_EQ(ahead.take_perf_event("no_such_category:no_such_event"), -1);
  EXPECT_EQ(ahead.take_perf_event("sched:sched_switch"), -1)
      << "never asked for";

  // Each counts its own tracepoint, enabled already.
  uint64_t before = count_of(first), uid_before = count_of(uid);
  getppid_on_cpu0(5);
  EXPECT_GE(count_of(first) - before, 5u);
  EXPECT_GE(count_of(second), 5u);
  EXPECT_EQ(count_of(uid), uid_before) << "getuid's event saw getppid";
  for (int fd : {first, second, uid})
    close(fd);
}

TEST_F(ObjectsAheadTest, TheFirstMakeWinsAndATakeEndsMaking) {
  KernelObjectsAhead ahead;
  ahead.make({}, {kGetppid});
  ahead.make({}, {kGetuid}); // too late: nothing more is opened
  EXPECT_EQ(ahead.take_perf_event(kGetuid), -1);
  int fd = ahead.take_perf_event(kGetppid);
  EXPECT_GE(fd, 0);
  close(fd);

  KernelObjectsAhead taken_first;
  EXPECT_EQ(taken_first.take_perf_event(kGetppid), -1);
  size_t held = perf_events_held();
  taken_first.make({}, {kGetppid}); // the attach went on without it
  EXPECT_EQ(perf_events_held(), held);
  EXPECT_FALSE(taken_first.start(tracepoint_points({kGetppid, kGetuid}), 1));
}

TEST_F(ObjectsAheadTest, StartsAThreadOnlyFromEnoughTracepoints) {
  KernelObjectsAhead few;
  EXPECT_FALSE(few.start(tracepoint_points({kGetppid}), 2));
  EXPECT_FALSE(few.start(tracepoint_points({}), 0));
  EXPECT_EQ(few.take_perf_event(kGetppid), -1);

  KernelObjectsAhead enough;
  ASSERT_TRUE(enough.start(tracepoint_points({kGetppid, kGetuid}), 2));
  EXPECT_FALSE(enough.start(tracepoint_points({kGetppid, kGetuid}), 2))
      << "started twice";
  // take() waits for the thread's open.
  int ppid = enough.take_perf_event(kGetppid),
      uid = enough.take_perf_event(kGetuid);
  EXPECT_GE(ppid, 0);
  EXPECT_GE(uid, 0);
  close(ppid);
  close(uid);
}

TEST_F(ObjectsAheadTest, EventsNobodyTookAreReleased) {
  size_t held = perf_events_held();
  {
    KernelObjectsAhead ahead;
    ASSERT_TRUE(
        ahead.start(tracepoint_points({kGetppid, kGetuid, kGetppid}), 1));
    int fd = ahead.take_perf_event(kGetuid);
    ASSERT_GE(fd, 0);
    close(fd);
    EXPECT_EQ(perf_events_held(), held + 2);
  }
  EXPECT_EQ(perf_events_held(), held);
}

// A script map as the type checker describes it.
MapDesc script_map(const std::string &name, MapStorage storage,
                   uint32_t key_size, uint32_t value_size) {
  MapDesc map;
  map.name = name;
  map.storage = storage;
  map.max_entries = 4096;
  map.key = Type::integer(key_size, false);
  map.value = Type::integer(value_size, false);
  return map;
}

TEST(MapsOf, DefinesEachMapAsTheCodeGeneratorDoes) {
  auto specs = KernelObjectsAhead::maps_of(
      {script_map("@start", MapStorage::Hash, 4, 8),
       script_map("@", MapStorage::PercpuHash, 8, 8)});
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "@start");
  EXPECT_EQ(specs[0].kernel_name, "m_start");
  EXPECT_EQ(specs[0].type, uint32_t(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(specs[0].key_size, 4u);
  EXPECT_EQ(specs[0].value_size, 8u);
  EXPECT_EQ(specs[0].max_entries, 4096u);
  EXPECT_EQ(specs[0].flags, 0u);
  EXPECT_EQ(specs[1].kernel_name, "m__anon");
  EXPECT_EQ(specs[1].type, uint32_t(BPF_MAP_TYPE_PERCPU_HASH));
  // Not preallocated: 4096 entries on every CPU at each start.
  EXPECT_EQ(specs[1].flags, uint32_t(BPF_F_NO_PREALLOC));
}

TEST_F(ObjectsAheadTest, MapsAreMadeAsSpecifiedAndTakenOnce) {
  KernelObjectsAhead ahead;
  MapSpec start{"@start", "m_start", BPF_MAP_TYPE_HASH, 4, 8, 4096, 0};
  MapSpec counts{"@", "m__anon", BPF_MAP_TYPE_PERCPU_HASH, 8,
                 8,   1024,      BPF_F_NO_PREALLOC};
  MapSpec refused{"@bad", "m_bad", BPF_MAP_TYPE_HASH, 0, 8, 16, 0};
  ahead.make({start, counts, refused}, {kGetppid});
  int fd = ahead.take_map(start);
  ASSERT_GE(fd, 0);
  bpf_map_info info{};
  uint32_t size = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &size), 0);
  EXPECT_EQ(info.type, uint32_t(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(info.key_size, 4u);
  EXPECT_EQ(info.value_size, 8u);
  EXPECT_EQ(info.max_entries, 4096u);
  EXPECT_STREQ(info.name, "m_start");
  close(fd);
  EXPECT_EQ(ahead.take_map(start), -1) << "taken twice";
  EXPECT_EQ(ahead.take_map(refused), -1) << "a key size of 0 is refused";
  fd = ahead.take_map(counts);
  ASSERT_GE(fd, 0);
  info = {};
  size = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &size), 0);
  EXPECT_EQ(info.type, uint32_t(BPF_MAP_TYPE_PERCPU_HASH));
  EXPECT_EQ(info.map_flags, uint32_t(BPF_F_NO_PREALLOC));
  close(fd);
  fd = ahead.take_perf_event(kGetppid);
  EXPECT_GE(fd, 0);
  close(fd);

  // A map made otherwise than the object defines is not handed over.
  KernelObjectsAhead other;
  other.make({start}, {});
  MapSpec smaller = start;
  smaller.max_entries = 2048;
  EXPECT_EQ(other.take_map(smaller), -1);
  EXPECT_EQ(other.take_map(start), -1) << "closed, not kept for later";
}

// A cached run's thread opens events only: the load's take_map() does not
// wait for it.
TEST_F(ObjectsAheadTest, StartMakesNoMaps) {
  KernelObjectsAhead ahead;
  ASSERT_TRUE(ahead.start(tracepoint_points({kGetppid, kGetuid}), 1));
  MapSpec start{"@start", "m_start", BPF_MAP_TYPE_HASH, 4, 8, 16, 0};
  EXPECT_EQ(ahead.take_map(start), -1);
  ahead.make({start}, {});
  EXPECT_EQ(ahead.take_map(start), -1) << "made after start()";
  int fd = ahead.take_perf_event(kGetuid);
  EXPECT_GE(fd, 0);
  close(fd);
}

} // namespace
} // namespace hvt
