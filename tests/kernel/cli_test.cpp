// The command line: -f json (every record parsed with a real JSON parser),
// -o, -l, --info, -B, -d verifier, verifier errors mapped to the script,
// standard scripts by name, positional parameters and exit codes.
#include "hvt_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using nlohmann::json;

namespace hvt::test {
namespace {

const std::string kTarget = HVT_UPROBE_TARGET;

class Cli : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
  }
};

// Every non-empty line of `out` as JSON (bpftrace prints two empty lines
// before the maps at exit, in JSON mode too).
std::vector<json> records(const std::string &out) {
  std::vector<json> all;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      continue;
    json record = json::parse(line); // throws on anything malformed
    EXPECT_TRUE(record.is_object()) << line;
    EXPECT_EQ(record.size(), 2u) << line;
    EXPECT_TRUE(record.contains("type") && record.contains("data")) << line;
    all.push_back(std::move(record));
  }
  return all;
}

std::map<std::string, std::vector<json>> by_type(const std::vector<json> &all) {
  std::map<std::string, std::vector<json>> types;
  for (const auto &r : all)
    types[r["type"].get<std::string>()].push_back(r["data"]);
  return types;
}

std::string read_all(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_dir() {
  char dir[] = "/tmp/hvt_cli_XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  return dir;
}

// ---------------------------------------------------------------------------
// JSON

TEST_F(Cli, JsonRecordsOfEveryTypeParse) {
  Finished done = run_hvt(
      {"-f", "json", "-e",
       "BEGIN { printf(\"hi %d \\\"q\\\"\\n\", 1); print(5); print((1, \"x\"));"
       " time(\"%Y\\n\"); @c = count(); @h = hist(5); @l = lhist(3, 0, 10, 1);"
       " @s = stats(3); @a = avg(4); @m[1, \"a\"] = 5; @str = \"text\";"
       " exit(); }"});
  ASSERT_EQ(done.exit_code, 0) << done.err;
  auto types = by_type(records(done.out));
  ASSERT_EQ(types["attached_probes"].size(), 1u);
  EXPECT_EQ(types["attached_probes"][0], json({{"probes", 1}}));
  EXPECT_EQ(types["printf"], std::vector<json>{"hi 1 \"q\"\n"});
  ASSERT_EQ(types["value"].size(), 2u);
  EXPECT_EQ(types["value"][0], 5);
  EXPECT_EQ(types["value"][1], json::array({1, "x"}));
  ASSERT_EQ(types["time"].size(), 1u);
  EXPECT_TRUE(std::regex_match(types["time"][0].get<std::string>(),
                               std::regex("\\d{4}\n")));
  std::vector<json> maps = types["map"];
  EXPECT_NE(std::find(maps.begin(), maps.end(), json({{"@c", 1}})), maps.end());
  EXPECT_NE(std::find(maps.begin(), maps.end(), json({{"@m", {{"1,a", 5}}}})),
            maps.end());
  EXPECT_NE(std::find(maps.begin(), maps.end(), json({{"@str", "text"}})),
            maps.end());
  std::vector<json> hists = types["hist"];
  json hist = {{"@h", {{{"min", 4}, {"max", 7}, {"count", 1}}}}};
  json lhist = {{"@l", {{{"min", 3}, {"max", 3}, {"count", 1}}}}};
  EXPECT_NE(std::find(hists.begin(), hists.end(), hist), hists.end());
  EXPECT_NE(std::find(hists.begin(), hists.end(), lhist), hists.end());
  std::vector<json> stats = types["stats"];
  json s = {{"@s", {{"count", 1}, {"average", 3}, {"total", 3}}}};
  EXPECT_NE(std::find(stats.begin(), stats.end(), s), stats.end());
  EXPECT_NE(std::find(stats.begin(), stats.end(), json({{"@a", 4}})),
            stats.end());
}

TEST_F(Cli, JsonErrorRecordForAnAttachFailure) {
  Finished done =
      run_hvt({"-f", "json", "-e", "BEGIN { }\nkprobe:vfs_raed { }"});
  EXPECT_EQ(done.exit_code, 1);
  auto types = by_type(records(done.out));
  ASSERT_EQ(types["error"].size(), 1u) << done.out;
  const json &error = types["error"][0];
  EXPECT_EQ(error["message"],
            "cannot attach kprobe:vfs_raed: kernel function 'vfs_raed' does "
            "not exist");
  EXPECT_EQ(error["line"], 2);
  EXPECT_EQ(error["column"], 1);
  EXPECT_EQ(error["hints"], json::array({"did you mean 'vfs_read'?"}));
  // The human-readable diagnostic still goes to stderr.
  EXPECT_NE(done.err.find("error: cannot attach kprobe:vfs_raed"),
            std::string::npos);
}

TEST_F(Cli, JsonLostEvents) {
  HvtProcess hvt(
      {"-f", "json", "-B", "none", "-e",
       "tracepoint:syscalls:sys_enter_getppid /comm == \"hvt_jflood\"/"
       " { printf(\"%s %s %s %s\\n\", comm, comm, comm, comm); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("attached_probes", 20s))
      << hvt.finish(1s).err;
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_NAME, "hvt_jflood");
    for (int i = 0; i < 200000; ++i)
      syscall(SYS_getppid);
    _exit(0);
  }
  waitpid(child, nullptr, 0);
  std::thread stopper([&] {
    std::this_thread::sleep_for(1s);
    hvt.signal(SIGINT);
  });
  Finished done = hvt.finish(30s);
  stopper.join();
  EXPECT_EQ(done.exit_code, 0) << done.err;
  auto types = by_type(records(done.out));
  ASSERT_FALSE(types["lost_events"].empty());
  uint64_t lost = 0;
  for (const auto &data : types["lost_events"])
    lost += data.at("events").get<uint64_t>();
  EXPECT_EQ(lost + types["printf"].size(), 200000u);
}

// ---------------------------------------------------------------------------
// Output options

TEST_F(Cli, OutputFile) {
  std::string dir = temp_dir();
  std::string path = dir + "/out.txt";
  Finished done =
      run_hvt({"-o", path, "-e",
               "BEGIN { printf(\"to the file\\n\"); @x = 1; exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "");
  EXPECT_EQ(read_all(path), "Attaching 1 probe...\nto the file\n\n\n@x: 1\n");
  Finished bad =
      run_hvt({"-o", "/nonexistent/dir/out", "-e", "BEGIN { exit(); }"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "hvt: cannot write '/nonexistent/dir/out': No such file "
                     "or directory\n");
  std::filesystem::remove_all(dir);
}

// A full disk is not a closed pipe: the user hears about it, exit code 1.
TEST_F(Cli, OutputFileOnAFullDiskIsAnError) {
  Finished full = run_hvt({"-o", "/dev/full", "-e",
                           "BEGIN { printf(\"lost\\n\"); @x = 1; exit(); }"});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_EQ(full.err, "hvt: cannot write '/dev/full': No space left on device\n");
}

TEST_F(Cli, BufferingModesPrintTheSame) {
  std::string program =
      "interval:ms:20 { printf(\"tick\\n\"); } interval:ms:110 { exit(); }";
  for (const char *mode : {"none", "line", "full"}) {
    Finished done = run_hvt({"-B", mode, "-e", program});
    EXPECT_EQ(done.exit_code, 0) << mode << done.err;
    EXPECT_EQ(done.out.rfind("Attaching 2 probes...\ntick\n", 0), 0u) << mode;
  }
  EXPECT_EQ(run_hvt({"-B", "some", "-e", program}).exit_code, 1);
}

// ---------------------------------------------------------------------------
// Listing and --info

TEST_F(Cli, ListWithPatterns) {
  Finished exact = run_hvt({"-l", "tracepoint:syscalls:sys_enter_getppid"});
  EXPECT_EQ(exact.exit_code, 0) << exact.err;
  EXPECT_EQ(exact.out, "tracepoint:syscalls:sys_enter_getppid\n");

  // An alias names the provider; the glob spans the whole name.
  Finished wild = run_hvt({"-l", "t:syscalls:sys_*_getpp*"});
  EXPECT_EQ(wild.out, "tracepoint:syscalls:sys_enter_getppid\n"
                      "tracepoint:syscalls:sys_exit_getppid\n");

  Finished any = run_hvt({"-l", "*:sys_enter_getppid"});
  EXPECT_EQ(any.out, "tracepoint:syscalls:sys_enter_getppid\n");

  Finished software = run_hvt({"-l", "software:*"});
  EXPECT_NE(software.out.find("software:cpu-clock:\n"), std::string::npos);
  EXPECT_NE(software.out.find("software:page-faults:\n"), std::string::npos);

  Finished kprobes = run_hvt({"-l", "kprobe:vfs_rea*"});
  EXPECT_NE(kprobes.out.find("kprobe:vfs_read\n"), std::string::npos);
  EXPECT_EQ(kprobes.out.find("bpf_prog_"), std::string::npos);

  Finished fentry = run_hvt({"-l", "fentry:vfs_read"});
  EXPECT_EQ(fentry.out, "fentry:vfs_read\n");

  Finished uprobes = run_hvt({"-l", "uprobe:" + kTarget + ":hvt_target_*"});
  EXPECT_EQ(uprobes.out, "uprobe:" + kTarget + ":hvt_target_add\n" +
                             "uprobe:" + kTarget + ":hvt_target_other\n");

  Finished none = run_hvt({"-l", "tracepoint:nothing:here*"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, "hvt: no probe matches 'tracepoint:nothing:here*'\n");
}

TEST_F(Cli, ListVerboseShowsFieldsAndArguments) {
  Finished done = run_hvt({"-lv", "tracepoint:sched:sched_process_exit"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out.rfind("tracepoint:sched:sched_process_exit\n", 0), 0u);
  EXPECT_NE(done.out.find("\n    char comm[16]\n"), std::string::npos)
      << done.out;
  EXPECT_NE(done.out.find("\n    pid_t pid\n"), std::string::npos) << done.out;
  EXPECT_EQ(done.out.find("common_"), std::string::npos) << done.out;

  Finished fentry = run_hvt({"-l", "-v", "fentry:vfs_read"});
  EXPECT_EQ(fentry.out, "fentry:vfs_read\n"
                        "    struct file * file\n"
                        "    char * buf\n"
                        "    size_t count\n"
                        "    loff_t * pos\n"
                        "    ssize_t retval\n");
}

TEST_F(Cli, InfoNamesEveryFeature) {
  Finished done = run_hvt({"--info"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  for (const char *feature :
       {"BTF:", "ring buffer:", "BEGIN/END (BPF_PROG_TEST_RUN):",
        "tracepoints:", "kprobes:", "fentry/fexit:", "uprobes:",
        "perf events (software):", "hardware counters:"})
    EXPECT_NE(done.out.find(std::string("\n  ") + feature), std::string::npos)
        << feature << "\n"
        << done.out;
  EXPECT_TRUE(
      std::regex_search(done.out, std::regex("\n  ring buffer: +yes\n")))
      << done.out;
  EXPECT_TRUE(std::regex_search(done.out, std::regex("\n  uprobes: +yes\n")))
      << done.out;
  struct stat st;
  if (stat("/sys/bus/event_source/devices/kprobe", &st) != 0) {
    EXPECT_TRUE(std::regex_search(
        done.out, std::regex("\n  kprobes: +no \\(the kernel was built "
                             "without CONFIG_KPROBES\\)\n")))
        << done.out;
  }
}

// ---------------------------------------------------------------------------
// Verifier errors

TEST_F(Cli, VerifierRejectionPointsAtTheScript) {
  // Too many branches to follow: the verifier gives up inside the loop.
  std::string program = "BEGIN {\n"
                        "  $i = 0;\n"
                        "  while ($i < 100000000) {\n"
                        "    $i++; @x[$i] = $i;\n"
                        "  }\n"
                        "}\n";
  Finished done = run_hvt({"--dry-run", "-"}, 60s, program);
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      done.err, std::regex("^stdin:(3|4):[0-9]+: error: BPF verifier rejected "
                           "probe 'BEGIN': ")))
      << done.err;
  EXPECT_NE(done.err.find("stdin:1:1-5: note: in probe 'BEGIN'\n"),
            std::string::npos)
      << done.err;
  EXPECT_NE(done.err.find("hint: run with -d verifier to see the full "
                          "verifier log\n"),
            std::string::npos)
      << done.err;

  // -d verifier: the raw log, with the script lines BTF line info put there.
  Finished dump = run_hvt({"-d", "verifier", "-"}, 60s, program);
  EXPECT_EQ(dump.exit_code, 1);
  EXPECT_EQ(dump.out.rfind("--- verifier log of BEGIN (", 0), 0u)
      << dump.out.substr(0, 200);
  EXPECT_NE(dump.out.find("; $i++; @x[$i] = $i; @ stdin:4\n"),
            std::string::npos);
}

TEST_F(Cli, DumpVerifierOfAnAcceptedProgram) {
  Finished done = run_hvt({"-d", "verifier", "-e", "BEGIN { @x = pid; }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out.rfind("--- verifier log of BEGIN (", 0), 0u) << done.out;
  EXPECT_NE(done.out.find("\nprocessed "), std::string::npos) << done.out;
}

// ---------------------------------------------------------------------------
// The code generator plugin

// A compiling run whose code generator is missing, or is not hvt's, says so
// and stops; nothing crashes and nothing is loaded.
TEST_F(Cli, AMissingOrForeignCodeGeneratorIsAClearError) {
  const std::vector<std::string> args = {"--no-cache", "-e",
                                         "BEGIN { printf(\"ran\\n\"); }"};
  setenv("HVT_CODEGEN", "/nonexistent/libhvt_codegen.so", 1);
  Finished missing = run_hvt(args);
  // A shared object that loads but has no hvt entry point.
  setenv("HVT_CODEGEN", "/lib/x86_64-linux-gnu/libz.so.1", 1);
  Finished foreign = run_hvt(args);
  unsetenv("HVT_CODEGEN");
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("error: cannot load hvt's code generator: "
                             "/nonexistent/libhvt_codegen.so"),
            std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("hint: rebuild or reinstall hvt"),
            std::string::npos)
      << missing.err;
  EXPECT_EQ(foreign.exit_code, 1) << foreign.err;
  EXPECT_EQ(foreign.out, "");
  EXPECT_NE(foreign.err.find("error: hvt's code generator at "
                             "/lib/x86_64-linux-gnu/libz.so.1 belongs to "
                             "another build of hvt"),
            std::string::npos)
      << foreign.err;
}

// ---------------------------------------------------------------------------
// Scripts, parameters, exit codes

TEST_F(Cli, StandardScriptsByNameAndTheirList) {
  std::string dir = temp_dir();
  std::ofstream(dir + "/hvtdemo.ht")
      << "#!/usr/bin/env hvt\n"
         "// hvtdemo.ht: greets, then exits (guest or host)\n"
         "// More text that is not the description.\n"
         "BEGIN { printf(\"demo %d\\n\", $1); exit(); }\n";
  setenv("HVT_SCRIPT_PATH", dir.c_str(), 1);
  Finished by_name = run_hvt({"hvtdemo.ht", "7"});
  Finished no_extension = run_hvt({"hvtdemo", "8"});
  Finished list = run_hvt({"--list-scripts"});
  unsetenv("HVT_SCRIPT_PATH");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_EQ(by_name.out, "Attaching 1 probe...\ndemo 7\n\n\n");
  EXPECT_EQ(no_extension.out, "Attaching 1 probe...\ndemo 8\n\n\n");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(std::regex_search(
      list.out, std::regex("(^|\n)hvtdemo\\.ht +greets, then exits \\(guest "
                           "or host\\)\n")))
      << list.out;
}

TEST_F(Cli, MissingScriptSaysSo) {
  Finished done = run_hvt({"no_such_script.ht"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err, "hvt: cannot read 'no_such_script.ht': No such file or "
                      "directory\n");
}

TEST_F(Cli, PositionalParametersAfterTheProgram) {
  Finished done = run_hvt({"-e",
                           "BEGIN { printf(\"%d %s %d\\n\", $1, str($2), "
                           "$#); exit(); }",
                           "42", "word"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n42 word 2\n\n\n");
}

TEST_F(Cli, ProgramFromStdin) {
  Finished done = run_hvt({"-", "5"}, 30s,
                          "BEGIN { printf(\"stdin %d\\n\", $1); exit(); }\n");
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\nstdin 5\n\n\n");
}

TEST_F(Cli, ExitCodesAreZeroOrOne) {
  EXPECT_EQ(run_hvt({"--version"}).exit_code, 0);
  Finished help = run_hvt({"-h"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--dry-run"), std::string::npos);
  EXPECT_EQ(run_hvt({"--no-such-flag"}).exit_code, 1);
  EXPECT_EQ(run_hvt({"-f", "xml", "-e", "BEGIN { }"}).exit_code, 1);
  EXPECT_EQ(run_hvt({}).exit_code, 1);
  Finished both = run_hvt({"-p", "1", "-c", "true", "-e", "BEGIN { }"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_EQ(both.err, "hvt: -p and -c cannot be used together\n");
  EXPECT_EQ(run_hvt({"-e", "BEGIN { exit(); }"}).exit_code, 0);
}

} // namespace
} // namespace hvt::test
