// BEGIN tables (compiler/passes/initial_entries.h, runtime/initial_entries.h):
// BEGIN's constant map assignments are written by the runtime before BEGIN
// runs. These runs check that nothing a script can see changes: the values
// printed at exit, print() in BEGIN, reads in later probes, full maps, and
// the compile cache.
#include "hvt_process.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

class BeginTable : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
  }
};

// `entries` integer keys and `entries` string keys, each with a string.
std::string table(int entries) {
  std::string text;
  for (int i = 0; i < entries; ++i)
    text += "  @name[" + std::to_string(i) + "] = \"name_" + std::to_string(i) +
            "\";\n";
  for (int i = 0; i < entries; ++i)
    text += "  @str[\"key_" + std::to_string(i) + "\"] = \"value_" +
            std::to_string(i) + "\";\n";
  return text;
}

// The maps of table(entries) as printed at exit: integer keys in numeric
// order, string keys in byte order.
std::string printed_table(int entries) {
  std::string text;
  for (int i = 0; i < entries; ++i)
    text +=
        "@name[" + std::to_string(i) + "]: name_" + std::to_string(i) + "\n";
  std::vector<std::string> keys;
  for (int i = 0; i < entries; ++i)
    keys.push_back(std::to_string(i));
  std::sort(keys.begin(), keys.end(), [](const auto &a, const auto &b) {
    return "key_" + a < "key_" + b;
  });
  for (const auto &k : keys)
    text += "@str[key_" + k + "]: value_" + k + "\n";
  return text;
}

TEST_F(BeginTable, ThousandEntryTablesPrintAsBpftracePrintsThem) {
  // bpftrace 0.17 prints exactly this (in 40 s; hvt takes milliseconds).
  Finished done =
      run_hvt({"--no-cache", "-e",
               "BEGIN {\n" + table(1000) +
                   "  printf(\"%s %s\\n\", @name[999], @str[\"key_0\"]);\n"
                   "  exit();\n}\n"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.err, "");
  EXPECT_EQ(done.out, "Attaching 1 probe...\nname_999 value_0\n\n\n" +
                          printed_table(1000));
}

TEST_F(BeginTable, LaterProbesAndLaterStatementsSeeTheEntries) {
  // As bpftrace 0.17 prints it.
  Finished done = run_hvt(
      {"--no-cache", "-e",
       "BEGIN {\n"
       "  @n[1] = \"one\";\n"
       "  @n[-2] = \"minus two\";\n"
       "  @n[1] = \"uno\";\n"
       "  @t[1, \"a\"] = 10;\n"
       "  @t[2, \"bb\"] = -20;\n"
       "  @x = 42;\n"
       "  @u[7] = 70;\n"
       "  print(@n);\n"
       "  printf(\"n1=%s t=%d x=%d\\n\", @n[1], @t[2, \"bb\"], @x);\n"
       "}\n"
       "interval:ms:100 {\n"
       "  printf(\"later: %s %d %d\\n\", @n[-2], @t[1, \"a\"], @u[7]);\n"
       "  @u[7]++;\n"
       "  exit();\n"
       "}\n"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.err, "");
  EXPECT_EQ(done.out, "Attaching 2 probes...\n"
                      "@n[1]: uno\n"
                      "@n[-2]: minus two\n"
                      "n1=uno t=-20 x=42\n"
                      "later: minus two 10 70\n"
                      "\n\n"
                      "@n[1]: uno\n"
                      "@n[-2]: minus two\n"
                      "@t[2, bb]: -20\n"
                      "@t[1, a]: 10\n"
                      "@u[7]: 71\n"
                      "@x: 42\n");
}

TEST_F(BeginTable, BeginThatOnlyPrintsSeesTheEntries) {
  // Left with print(), printf() and exit() only, BEGIN needs no program
  // either; its print(@a) still comes after the entries. As bpftrace 0.17
  // prints it.
  Finished done = run_hvt({"--no-cache", "-e",
                           "BEGIN { @a[1] = \"x\"; @b = 3; print(@a); "
                           "printf(\"hi\\n\"); exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n@a[1]: x\nhi\n\n\n@a[1]: x\n"
                      "@b: 3\n");
}

TEST_F(BeginTable, StatementsBetweenEntriesKeepTheirOrder) {
  // As bpftrace 0.17 prints it: the first read of @a sees @a[1] only.
  Finished done =
      run_hvt({"--no-cache", "-e",
               "BEGIN {\n"
               "  printf(\"start\\n\");\n"
               "  @a[1] = 1;\n"
               "  printf(\"a1=%d a2=%d\\n\", @a[1], @a[2]);\n"
               "  @a[2] = 2;\n"
               "  @b[\"x\"] = \"y\";\n"
               "  if (@b[\"x\"] == \"y\") { printf(\"seen\\n\"); }\n"
               "  @c = 5;\n"
               "  @c = 6;\n"
               "  exit();\n"
               "}\n"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\nstart\na1=1 a2=0\nseen\n\n\n"
                      "@a[1]: 1\n@a[2]: 2\n@b[x]: y\n@c: 6\n");
}

TEST_F(BeginTable, TableOverTheMapSizeEndsAsWhenBeginWroteIt) {
  // The same table, written by the runtime and (its first key not a
  // literal) by the BEGIN program: the same entries survive, with the same
  // warning.
  auto run = [](const std::string &first_key) {
    return run_hvt({"--no-cache", "-e",
                    "config = { max_map_keys = 3 }\n"
                    "BEGIN {\n"
                    "  @m[" +
                        first_key +
                        "] = \"a\";\n"
                        "  @m[2] = \"b\";\n"
                        "  @m[3] = \"c\";\n"
                        "  @m[4] = \"d\";\n"
                        "  @m[2] = \"B\";\n"
                        "  @m[5] = \"e\";\n"
                        "  exit();\n"
                        "}\n"});
  };
  Finished runtime = run("1");
  Finished program = run("1 + 0");
  EXPECT_EQ(runtime.exit_code, 0) << runtime.err;
  EXPECT_EQ(runtime.out,
            "Attaching 1 probe...\n\n\n@m[1]: a\n@m[2]: B\n@m[3]: c\n");
  EXPECT_NE(runtime.err, "");
  EXPECT_EQ(program.exit_code, runtime.exit_code);
  EXPECT_EQ(program.out, runtime.out);
  EXPECT_EQ(program.err, runtime.err);
}

TEST_F(BeginTable, CachedProgramWritesTheSameEntries) {
  char dir[] = "/tmp/hvt-begin-table-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  setenv("HVT_CACHE_DIR", (std::string(dir) + "/cache").c_str(), 1);
  std::string program = "BEGIN {\n" + table(300) + "  exit();\n}\n";
  Finished first = run_hvt({"-e", program});
  Finished second = run_hvt({"-v", "-e", program});
  unsetenv("HVT_CACHE_DIR");
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("hvt: compile cache: hit "), std::string::npos)
      << "the second run loads the stored program\n"
      << second.err;
  std::string expected = "Attaching 1 probe...\n\n\n" + printed_table(300);
  EXPECT_EQ(first.out, expected);
  EXPECT_EQ(second.out, expected);
}

} // namespace
} // namespace hvt::test
