// Kernel runtime tests of kernel struct access through BTF: casts,
// `->` and `.` member reads, chains, char arrays, bitfields, array
// elements and the typed `curtask`, read from tasks and sockets whose
// values this test knows. Kprobe programs are checked with --dry-run
// (loaded by the verifier, not attached): this kernel may lack kprobes.
#include "hvt_process.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

class BtfStructs : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux"))
      GTEST_SKIP() << "the kernel has no BTF";
  }
};

std::string own_comm() {
  char name[17] = {};
  prctl(PR_GET_NAME, name);
  return name;
}

// Runs `program` with $1 = this process's pid, calling `trigger` until hvt
// exits (the program ends with exit()).
template <typename Trigger>
Finished trace_self(const std::string &program, Trigger trigger) {
  HvtProcess hvt({"-e", program, std::to_string(getpid())});
  if (!hvt.wait_for_stdout("Attaching", 20s))
    return hvt.finish(1s);
  for (int i = 0; i < 20; ++i) {
    trigger();
    if (hvt.wait_for_stdout("\n\n", 100ms))
      break;
  }
  return hvt.finish(20s);
}

TEST_F(BtfStructs, BeginReadsItsOwnTask) {
  // BEGIN runs in hvt itself, whose parent is this test.
  Finished done = run_hvt(
      {"-e", "BEGIN { printf(\"%d %d %d %d %s\\n\", curtask->pid == pid, "
             "((struct task_struct *)curtask)->tgid == pid, "
             "curtask->real_parent->tgid, curtask->comm == comm, "
             "curtask->comm); exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n1 1 " + std::to_string(getpid()) +
                          " 1 hvt\n\n\n");
}

TEST_F(BtfStructs, TracepointReadsTheTracedTaskThroughVariables) {
  Finished done = trace_self(
      "tracepoint:syscalls:sys_enter_getppid /pid == $1/ { "
      "$t = (struct task_struct *)curtask; $parent = $t->real_parent; "
      "printf(\"%d|%s|%d|%d|%d\\n\", $t->pid, $t->comm, $parent->tgid, "
      "$t->tgid == pid, $parent != 0); exit(); }",
      [] { syscall(SYS_getppid); });
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n" +
                          std::to_string(syscall(SYS_gettid)) + "|" +
                          own_comm() + "|" + std::to_string(getppid()) +
                          "|1|1\n\n\n");
}

TEST_F(BtfStructs, TracepointStructPointerFieldsReadUserMemory) {
  // rqtp is a `const struct __kernel_timespec *` into this process.
  Finished done =
      trace_self("tracepoint:syscalls:sys_enter_clock_nanosleep /pid == $1/ { "
                 "$r = args->rqtp; printf(\"%d %d\\n\", args->rqtp->tv_sec, "
                 "$r->tv_nsec); exit(); }",
                 [] {
                   timespec t = {0, 1234};
                   clock_nanosleep(CLOCK_MONOTONIC, 0, &t, nullptr);
                 });
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n0 1234\n\n\n");
}

// A TCP connection over loopback: inet_sock_set_state's skaddr is the
// struct sock, whose embedded sock_common holds the family and addresses
// and whose sk_no_check_tx bitfield SO_NO_CHECK sets.
void connect_loopback(int family) {
  int server = socket(family, SOCK_STREAM, 0);
  sockaddr_storage address{};
  socklen_t length;
  if (family == AF_INET6) {
    auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    length = sizeof(*in6);
  } else {
    auto *in = reinterpret_cast<sockaddr_in *>(&address);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(*in);
  }
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr *>(&address), length), 0);
  ASSERT_EQ(listen(server, 1), 0);
  ASSERT_EQ(
      getsockname(server, reinterpret_cast<sockaddr *>(&address), &length), 0);
  int client = socket(family, SOCK_STREAM, 0);
  int one = 1;
  ASSERT_EQ(setsockopt(client, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)), 0);
  EXPECT_EQ(connect(client, reinterpret_cast<sockaddr *>(&address), length), 0);
  close(client);
  close(server);
}

TEST_F(BtfStructs, SocketMembersBitfieldsAndArrays) {
  // TCP_SYN_SENT (2): the connecting side, in this process.
  Finished done = trace_self(
      "tracepoint:sock:inet_sock_set_state /pid == $1 && args->newstate == 2/ "
      "{ $sk = (struct sock *)args->skaddr; "
      "$f = $sk->__sk_common.skc_family; "
      "if ($f == 2) { printf(\"4 %s %d\\n\", "
      "ntop($sk->__sk_common.skc_daddr), $sk->sk_no_check_tx); } "
      "else { printf(\"6 %s %d %d\\n\", "
      "ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8), "
      "$sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8[15], "
      "$sk->sk_no_check_tx); } "
      "@n = count(); if (@n == 2) { exit(); } }",
      [] {
        connect_loopback(AF_INET);
        connect_loopback(AF_INET6);
      });
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n4 127.0.0.1 1\n6 ::1 1 1\n\n\n"
                      "@n: 2\n");
}

// tcpconnect.bt's port: skc_dport is in network byte order, and bswap() of
// the __be16 a variable holds swaps two bytes, as in bpftrace.
TEST_F(BtfStructs, BswapTurnsANetworkOrderPortAround) {
  Finished done = trace_self(
      "tracepoint:sock:inet_sock_set_state /pid == $1 && args->newstate == 2/ "
      "{ $sk = (struct sock *)args->skaddr; "
      "$dport = $sk->__sk_common.skc_dport; $dport = bswap($dport); "
      "printf(\"%d %d %d\\n\", $dport == args->dport, "
      "bswap((uint16)args->dport) == $sk->__sk_common.skc_dport, "
      "bswap(bswap($dport)) == args->dport); exit(); }",
      [] { connect_loopback(AF_INET); });
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n1 1 1\n\n\n");
}

// tcpconnect.bt's kprobe, through the verifier.
TEST_F(BtfStructs, KprobeStructAccessPassesTheVerifier) {
  Finished done = run_hvt(
      {"--dry-run", "-e",
       "kprobe:tcp_connect { $sk = (struct sock *)arg0; "
       "$inet_family = $sk->__sk_common.skc_family; "
       "if ($inet_family == 2 || $inet_family == 10) { "
       "if ($inet_family == 2) { "
       "$daddr = ntop($sk->__sk_common.skc_daddr); } else { "
       "$daddr = ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8); } "
       "printf(\"%-16s %-5d %s %d\\n\", curtask->comm, "
       "$sk->__sk_common.skc_num, $daddr, $sk->sk_no_check_tx); } } "
       "kprobe:finish_task_switch { $prev = (struct task_struct *)arg0; "
       "@[$prev->mm->pgd, $prev->se.load.weight] = count(); }"},
      60s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
}

TEST_F(BtfStructs, StockToolsPassTheVerifier) {
  for (const char *tool : {"/usr/sbin/biosnoop.bt", "/usr/sbin/oomkill.bt",
                           "/usr/sbin/tcpconnect.bt", "/usr/sbin/tcpaccept.bt",
                           "/usr/sbin/tcpdrop.bt", "/usr/sbin/tcpretrans.bt",
                           "/usr/sbin/tcplife.bt", "/usr/sbin/undump.bt"}) {
    if (!std::filesystem::exists(tool))
      continue;
    Finished done = run_hvt({"--dry-run", tool}, 60s);
    EXPECT_EQ(done.exit_code, 0) << tool << ": " << done.err;
  }
}

} // namespace
} // namespace hvt::test
