// The preprocessor (frontend/preprocessor.h), the header scanner
// (frontend/include_files.h) and macro expansion in the program
// (passes/macros.h): conditionals and the #if evaluator, defines, includes
// from a temporary tree of headers, positions, laziness and errors.
#include "frontend/include_files.h"
#include "frontend/parser.h"
#include "frontend/preprocessor.h"
#include "passes/macros.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace hvt {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  std::unique_ptr<Preprocessed> result;
  std::string diagnostics;
};

Outcome run(const std::string &text, PreprocessorOptions options = {},
            const std::string &name = "test.bt") {
  if (!options.have_btf)
    options.have_btf = true;
  SourceFile file(name, text);
  Diagnostics diags;
  Outcome out;
  out.result = preprocess(file, diags, options);
  out.diagnostics = diags.render(file);
  return out;
}

// The text the parser gets, which must come without diagnostics.
std::string text_of(const std::string &text, PreprocessorOptions options = {}) {
  Outcome r = run(text, std::move(options));
  EXPECT_EQ(r.diagnostics, "") << text;
  return r.result->changed() ? r.result->text() : text;
}

// Whether `condition` holds in `#if condition` (after `prelude`).
bool holds(const std::string &condition, const std::string &prelude = "") {
  std::string text =
      prelude + "#if " + condition + "\nYES\n#else\nNO\n#endif\n";
  std::string out = text_of(text);
  bool yes = out.find("YES") != std::string::npos;
  bool no = out.find("NO") != std::string::npos;
  EXPECT_NE(yes, no) << condition;
  return yes;
}

std::string expansion(Preprocessed &p, const std::string &name) {
  std::string text, error;
  EXPECT_TRUE(p.expand(name, text, error)) << name << ": " << error;
  return text;
}

// A directory of headers, removed at the end of the test.
class HeaderTree {
public:
  HeaderTree() {
    root_ =
        fs::temp_directory_path() / ("hvt_pp_test_" + std::to_string(getpid()) +
                                     "_" + std::to_string(counter_++));
    fs::create_directories(root_);
  }
  ~HeaderTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void write(const std::string &relative, const std::string &text) {
    fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::string path(const std::string &relative = "") const {
    return relative.empty() ? root_.string() : (root_ / relative).string();
  }
  PreprocessorOptions options() const {
    PreprocessorOptions options;
    options.include_dirs = std::vector<std::string>{path("inc")};
    options.have_btf = true;
    return options;
  }

private:
  fs::path root_;
  static inline int counter_ = 0;
};

// ------------------------------------------------------------ conditionals

TEST(Preprocessor, NoDirectivesLeavesTheTextAlone) {
  Outcome r = run("BEGIN { printf(\"#x\\n\"); } // #if\n/*\n#if 0\n*/\n");
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_FALSE(r.result->changed());
}

TEST(Preprocessor, InactiveRegionsAndDirectivesAreBlankedKeepingPositions) {
  std::string text = "#if 0\n"
                     "struct X { int a; };\n"
                     "#elif 1\n"
                     "BEGIN { @a = 1; }\n"
                     "#else\n"
                     "garbage \"\n"
                     "#endif\n"
                     "  END { @b = 2; }\n";
  std::string out = text_of(text);
  ASSERT_EQ(out.size(), text.size());
  for (size_t i = 0; i < text.size(); ++i)
    EXPECT_EQ(out[i] == '\n', text[i] == '\n') << i;
  EXPECT_EQ(out.find("BEGIN"), text.find("BEGIN"));
  EXPECT_EQ(out.find("END { @b"), text.find("END { @b"));
  EXPECT_EQ(out.find("struct"), std::string::npos);
  EXPECT_EQ(out.find("garbage"), std::string::npos);
  EXPECT_EQ(out.find('#'), std::string::npos);
}

TEST(Preprocessor, NestedConditionalsAndIfdef) {
  std::string out = text_of("#define A\n"
                            "#ifdef A\n"
                            "#ifndef B\n"
                            "one\n"
                            "#if 0\n"
                            "#if 1\n"
                            "two\n"
                            "#endif\n"
                            "#else\n"
                            "three\n"
                            "#endif\n"
                            "#endif\n"
                            "#else\n"
                            "four\n"
                            "#endif\n");
  EXPECT_NE(out.find("one"), std::string::npos);
  EXPECT_EQ(out.find("two"), std::string::npos);
  EXPECT_NE(out.find("three"), std::string::npos);
  EXPECT_EQ(out.find("four"), std::string::npos);
}

TEST(Preprocessor, OnlyTheFirstTrueBranchIsTaken) {
  std::string out = text_of("#if 0\na\n#elif 1\nb\n#elif 1\nc\n#else\nd\n"
                            "#endif\n");
  EXPECT_EQ(out.find('a'), std::string::npos);
  EXPECT_NE(out.find('b'), std::string::npos);
  EXPECT_EQ(out.find('c'), std::string::npos);
  EXPECT_EQ(out.find('d'), std::string::npos);
}

TEST(Preprocessor, ContinuationsAndCommentsInDirectives) {
  std::string text = "#define LONG 1 + \\\n  2 /* a\n comment */ + 3\n"
                     "#if LONG == 6 // yes\nok\n#endif\n";
  std::string out = text_of(text);
  EXPECT_NE(out.find("ok"), std::string::npos);
  EXPECT_EQ(out.find("comment"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'),
            std::count(text.begin(), text.end(), '\n'));
}

TEST(Preprocessor, BtfIsDefinedWhenTheKernelHasIt) {
  PreprocessorOptions with, without;
  with.have_btf = true;
  without.have_btf = false;
  std::string text = "#ifdef BPFTRACE_HAVE_BTF\nbtf\n#else\nno_btf\n#endif\n";
  EXPECT_NE(text_of(text, with).find("btf"), std::string::npos);
  EXPECT_NE(text_of(text, without).find("no_btf"), std::string::npos);
  EXPECT_TRUE(holds("defined(__linux__) && __CHAR_BIT__ == 8"));
}

// ----------------------------------------------------------- #if values

TEST(Preprocessor, IfEvaluatesCExpressions) {
  EXPECT_TRUE(holds("1 + 2 * 3 == 7"));
  EXPECT_TRUE(holds("(1 + 2) * 3 == 9"));
  EXPECT_TRUE(holds("(1 << 4) == 16 && (256 >> 4) == 16"));
  EXPECT_TRUE(holds("-1 < 0"));
  EXPECT_FALSE(holds("-1 < 0u")); // unsigned comparison, as in C
  EXPECT_TRUE(holds("10 / 3 == 3 && 10 % 3 == 1 && -7 / 2 == -3"));
  EXPECT_TRUE(holds("!0 && ~0 == -1 && !!5 == 1"));
  EXPECT_TRUE(holds("0x10 == 16 && 010 == 8 && 0b101 == 5 && 10UL == 10"));
  EXPECT_TRUE(holds("'A' == 65 && '\\n' == 10 && '\\x41' == 65"));
  EXPECT_TRUE(holds("(1 ? 2 : 3) == 2 && (0 ? 2 : 3) == 3"));
  EXPECT_TRUE(holds("(1 | 6) == 7 && (7 & 2) == 2 && (5 ^ 1) == 4"));
  EXPECT_TRUE(holds("1 >= 1 && 1 <= 1 && 2 > 1 && 1 != 2"));
  EXPECT_FALSE(holds("0 || 0"));
  EXPECT_TRUE(holds("(1, 0) == 0"));
  EXPECT_TRUE(holds("UNKNOWN_NAME == 0 && !UNKNOWN_NAME"));
  EXPECT_TRUE(holds("0 && 1 / 0 || 1")); // not evaluated: no error
  EXPECT_TRUE(holds("18446744073709551615 == -1"));
}

TEST(Preprocessor, IfSeesMacrosAndDefined) {
  std::string prelude = "#define FOO 3\n#define BAR FOO + 1\n#define E\n";
  EXPECT_TRUE(holds("defined(FOO) && defined BAR && defined E", prelude));
  EXPECT_FALSE(holds("defined(NOPE)", prelude));
  EXPECT_TRUE(holds("BAR * 2 == 5", prelude)); // 3 + 1 * 2, textually
  EXPECT_TRUE(holds("VERSION(4, 8) == 0x408",
                    "#define VERSION(a, b) ((a) << 8 | (b))\n"));
  EXPECT_TRUE(holds("__has_include(<no/such/header.h>) == 0"));
  EXPECT_TRUE(holds("!__has_builtin(__builtin_expect)"));
  EXPECT_FALSE(holds("defined FOO", prelude + "#undef FOO\n"));
}

// ------------------------------------------------------------- defines

TEST(Preprocessor, ObjectLikeMacrosExpandFully) {
  Outcome r =
      run("#define A B + 1\n#define B 2\n#define R R + 1\n"
          "#define U 0x10UL\n#define C 'a'\n#define F(x) ((x) * 2)\n"
          "#define G F(3)\n#define CAT(a, b) a##b\n#define AB 5\n"
          "#define V CAT(A, B)\n#define S(x) #x\n#define STR S(hi there)\n"
          "#define VA(fmt, ...) fmt, __VA_ARGS__\n#define W VA(1, 2, 3)\n"
          "BEGIN {}\n");
  ASSERT_EQ(r.diagnostics, "");
  Preprocessed &p = *r.result;
  EXPECT_EQ(expansion(p, "A"), "2 + 1");
  EXPECT_EQ(expansion(p, "R"), "R + 1"); // not expanded again
  EXPECT_EQ(expansion(p, "U"), "0x10");
  EXPECT_EQ(expansion(p, "C"), "97");
  EXPECT_EQ(expansion(p, "G"), "( ( 3 ) * 2 )");
  EXPECT_EQ(expansion(p, "V"), "5");
  EXPECT_EQ(expansion(p, "STR"), "\"hi there\"");
  EXPECT_EQ(expansion(p, "W"), "1 , 2 , 3");
  ASSERT_NE(p.find("F"), nullptr);
  EXPECT_TRUE(p.find("F")->function_like);
  EXPECT_EQ(p.find("A")->range.begin.line, 1u);
  EXPECT_EQ(p.find("A")->range.begin.column, 9u);
}

TEST(Preprocessor, CIntegerCastsBecomeHvtCasts) {
  Outcome r = run("#define A ((in_addr_t) 0x7f000001)\n"
                  "#define B ((unsigned long long)-1)\n"
                  "#define C ((unsigned char)'a')\n#define D (short)(1 + 2)\n"
                  "#define E ((__u32)~0)\n#define F (x)(1)\n"
                  "#define G ((int)y)\n#define H ((const char *)0)\n"
                  "BEGIN {}\n");
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_EQ(expansion(*r.result, "A"), "( (uint32) 0x7f000001 )");
  EXPECT_EQ(expansion(*r.result, "B"), "( (uint64) - 1 )");
  EXPECT_EQ(expansion(*r.result, "C"), "( (uint8) 97 )");
  EXPECT_EQ(expansion(*r.result, "D"), "(int16) ( 1 + 2 )");
  EXPECT_EQ(expansion(*r.result, "E"), "( (uint32) ~ 0 )");
  EXPECT_EQ(expansion(*r.result, "F"), "( x ) ( 1 )"); // not a type
  EXPECT_EQ(expansion(*r.result, "G"), "( (int32) y )");
  EXPECT_EQ(expansion(*r.result, "H"), "( ( const char * ) 0 )");
}

TEST(Preprocessor, UndefRemovesAndRedefineReplaces) {
  Outcome r =
      run("#define X 1\n#undef X\n#define Y 1\n#define Y 2\nBEGIN {}\n");
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.result->find("X"), nullptr);
  EXPECT_EQ(expansion(*r.result, "Y"), "2");
}

TEST(Preprocessor, MutualRecursionEnds) {
  Outcome r = run("#define P Q\n#define Q P\nBEGIN {}\n");
  EXPECT_EQ(expansion(*r.result, "P"), "P");
}

TEST(Preprocessor, ExplosiveMacrosAreBounded) {
  std::string text = "#define M0 x\n";
  for (int i = 1; i < 40; ++i)
    text += "#define M" + std::to_string(i) + " M" + std::to_string(i - 1) +
            " M" + std::to_string(i - 1) + "\n";
  Outcome r = run(text + "BEGIN {}\n");
  std::string out, error;
  EXPECT_FALSE(r.result->expand("M39", out, error));
  EXPECT_EQ(error, "macro expansion too large");
}

// ------------------------------------------------------------- includes

TEST(Preprocessor, NestedIncludesFromTheSearchPath) {
  HeaderTree tree;
  tree.write("inc/top.h", "#ifndef TOP_H\n#define TOP_H\n"
                          "#include <sub/inner.h>\n"
                          "#define TOP (INNER * 10)\n#endif\n");
  tree.write("inc/sub/inner.h", "#pragma once\n#include \"sibling.h\"\n"
                                "#define INNER (SIBLING + 1)\n");
  tree.write("inc/sub/sibling.h", "#define SIBLING 4\n");
  Outcome r = run("#include <top.h>\nBEGIN {}\n", tree.options());
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_TRUE(r.result->headers_read().empty()); // nothing asked yet
  EXPECT_EQ(expansion(*r.result, "TOP"), "( ( 4 + 1 ) * 10 )");
  EXPECT_EQ(r.result->headers_read().size(), 3u);
  EXPECT_EQ(r.result->find("INNER")->file, tree.path("inc/sub/inner.h"));
  EXPECT_EQ(r.result->find("INNER")->line, 3u);
}

TEST(Preprocessor, QuotedIncludesStartInTheScriptsDirectory) {
  HeaderTree tree;
  tree.write("script/local.h", "#define LOCAL 7\n");
  SourceFile file(tree.path("script/s.bt"), "#include \"local.h\"\nBEGIN {}\n");
  Diagnostics diags;
  auto result = preprocess(file, diags, tree.options());
  EXPECT_EQ(diags.render(file), "");
  EXPECT_EQ(expansion(*result, "LOCAL"), "7");
}

TEST(Preprocessor, IncludeGuardsAndPragmaOnce) {
  HeaderTree tree;
  tree.write("inc/guarded.h", "#ifndef G_H\n#define G_H\n#define GX 1\n"
                              "#endif\n");
  tree.write("inc/once.h", "#pragma once\n#define OX 1\n");
  tree.write("inc/plain.h", "#define PX 1\n");
  // The script's #undef between two includes stays in force when the
  // guarded headers are not read again; the unguarded one is.
  Outcome r =
      run("#include <guarded.h>\n#include <once.h>\n#include <plain.h>\n"
          "#undef GX\n#undef OX\n#undef PX\n"
          "#include <guarded.h>\n#include <once.h>\n#include <plain.h>\n"
          "BEGIN {}\n",
          tree.options());
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.result->find("GX"), nullptr);
  EXPECT_EQ(r.result->find("OX"), nullptr);
  EXPECT_NE(r.result->find("PX"), nullptr);
}

TEST(Preprocessor, HeadersSeeTheScriptsEarlierDefinitionsOnly) {
  HeaderTree tree;
  tree.write("inc/feature.h", "#if WANT\n#define ON 1\n#endif\n"
                              "#define LATE 1\n");
  Outcome r = run("#define WANT 1\n#include <feature.h>\n#undef WANT\n"
                  "#define LATE 2\nBEGIN {}\n",
                  tree.options());
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_NE(r.result->find("ON"), nullptr); // read lazily, after #undef WANT
  EXPECT_EQ(expansion(*r.result, "LATE"), "2"); // the script's later one
}

TEST(Preprocessor, ConditionsAfterAnIncludeReadIt) {
  HeaderTree tree;
  tree.write("inc/version.h", "#define VERSION_CODE 0x060100\n");
  std::string out = text_of("#include <version.h>\n"
                            "#if VERSION_CODE >= 0x050000\nnew\n#else\nold\n"
                            "#endif\n",
                            tree.options());
  EXPECT_NE(out.find("new"), std::string::npos);
  EXPECT_EQ(out.find("old"), std::string::npos);
}

TEST(Preprocessor, ConditionsAboutOtherNamesDoNotReadHeaders) {
  HeaderTree tree;
  tree.write("inc/h.h", "#define H 1\n");
  Outcome r =
      run("#include <h.h>\n#define MINE 1\n#if MINE\n#endif\nBEGIN {}\n",
          tree.options());
  EXPECT_TRUE(r.result->headers_read().empty());
}

TEST(Preprocessor, HostileHeadersDoNotBreakAnything) {
  HeaderTree tree;
  tree.write("inc/hostile.h",
             "/* a comment\n#define HIDDEN 1\n*/\n"
             "#define ATTR __attribute__((aligned(8)))\n"
             "#define MULTI(a, b) \\\n  do { (a) = (b); } while (0)\n"
             "#if defined(__GNUC__) && __GNUC_PREREQ(4, 8)\n#endif\n"
             "#if 1 / 0\n#define DIV 1\n#endif\n"
             "#if (\n#endif\n"
             "#define UNTERMINATED(a, \n"
             "#include <hostile.h>\n" // itself, without a guard
             "#include_next <nothing.h>\n"
             "#error never mind\n"
             "#bogus\n"
             "char *s = \"/* not a comment\";\n"
             "#define AFTER 42\n"
             "#if 1\n");
  Outcome r = run("#include <hostile.h>\nBEGIN {}\n", tree.options());
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.result->find("HIDDEN"), nullptr);
  EXPECT_EQ(r.result->find("DIV"), nullptr);
  EXPECT_EQ(expansion(*r.result, "AFTER"), "42");
  EXPECT_NE(r.result->find("MULTI"), nullptr);
}

TEST(Preprocessor, SystemHeaderMacros) {
  if (find_include("sys/socket.h", true, ".", system_include_dirs())
          .path.empty())
    GTEST_SKIP() << "no <sys/socket.h> on this system";
  Outcome r =
      run("#include <sys/socket.h>\n#include <linux/sched.h>\nBEGIN {}\n");
  ASSERT_EQ(r.diagnostics, "");
  EXPECT_EQ(expansion(*r.result, "AF_INET"), "2");
  EXPECT_EQ(expansion(*r.result, "AF_INET6"), "10");
  EXPECT_EQ(expansion(*r.result, "SOCK_STREAM"), "SOCK_STREAM"); // an enum
}

// Every header of /usr/include and /usr/include/linux, read for its
// macros and each of its object-like macros expanded: nothing may crash or
// report an error (headers are read silently).
TEST(Preprocessor, EverySystemHeaderReadsCleanly) {
  size_t headers = 0, expanded = 0;
  for (const char *dir : {"/usr/include", "/usr/include/linux"}) {
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".h")
        continue;
      std::string name = fs::relative(entry.path(), "/usr/include").string();
      Outcome r = run("#include <" + name + ">\n#if FOO_BAR > 1\n#endif\n");
      EXPECT_EQ(r.diagnostics, "") << name;
      std::string text, error;
      for (const char *macro : {"AF_INET", "EOF", "NULL", "INT_MAX", "_IOC",
                                "BUFSIZ", "PATH_MAX", "SIG_ERR", "errno"})
        if (r.result->find(macro) && r.result->expand(macro, text, error))
          ++expanded;
      ++headers;
    }
  }
  if (headers == 0)
    GTEST_SKIP() << "no /usr/include";
  EXPECT_GT(expanded, 0u);
}

TEST(Preprocessor, IncludeClosureFollowsEveryBranch) {
  HeaderTree tree;
  tree.write("inc/a.h", "#if 0\n#include <b.h>\n#endif\n#include <gone.h>\n");
  tree.write("inc/b.h", "#include \"a.h\"\n");
  IncludeClosure closure =
      include_closure("#ifdef X\n#include <a.h>\n#endif\n", tree.path());
  // system_include_dirs() is not the tree: nothing is found there.
  EXPECT_TRUE(closure.files.empty());
  EXPECT_FALSE(closure.missing.empty());
  EXPECT_TRUE(include_closure("BEGIN { }", ".").missing.empty());
  IncludeClosure local = include_closure("#include \"inc/a.h\"\n", tree.path());
  EXPECT_EQ(local.files.size(), 1u);
}

// -------------------------------------------------------------- errors

std::string errors(const std::string &text, PreprocessorOptions options = {}) {
  return run(text, std::move(options)).diagnostics;
}

TEST(Preprocessor, ConditionalErrors) {
  EXPECT_EQ(errors("BEGIN {}\n#if 1\n"),
            "test.bt:2:1-3: error: unterminated '#if'\n#if 1\n^~~\n"
            "hint: add '#endif' to end it\n");
  EXPECT_EQ(errors("#else\n"),
            "test.bt:1:1-5: error: '#else' without '#if'\n#else\n^~~~~\n");
  EXPECT_EQ(errors("  #  endif\n"),
            "test.bt:1:3-10: error: '#endif' without '#if'\n  #  endif\n"
            "  ^~~~~~~~\n");
  EXPECT_EQ(errors("#if 1\n#else\n#elif 1\n#endif\n"),
            "test.bt:3:1-5: error: '#elif' after '#else'\n#elif 1\n^~~~~\n");
  EXPECT_EQ(errors("#if 2 / (1 - 1)\n#endif\n"),
            "test.bt:1:5-15: error: invalid '#if' condition: division by "
            "zero\n#if 2 / (1 - 1)\n    ^~~~~~~~~~~\n");
  EXPECT_EQ(errors("#if\n#endif\n"),
            "test.bt:1:1-3: error: '#if' without a condition\n#if\n^~~\n");
  EXPECT_EQ(errors("#if (1\n#endif\n"),
            "test.bt:1:5-6: error: invalid '#if' condition: expected ')'\n"
            "#if (1\n    ^~\n");
  EXPECT_EQ(errors("#ifdef 3\n#endif\n"),
            "test.bt:1:8: error: macro name must be an identifier\n"
            "#ifdef 3\n       ^\n");
}

TEST(Preprocessor, HugeInputsAreBounded) {
  std::string deep = "#if " + std::string(5000, '(') + "1" +
                     std::string(5000, ')') + "\n#endif\n";
  EXPECT_NE(errors(deep).find("expression nested too deeply"),
            std::string::npos);
  std::string text;
  if (access("/proc/kcore", R_OK) == 0) {
    EXPECT_FALSE(read_text_file("/proc/kcore", text, 1 << 20));
  }
  EXPECT_EQ(errors("#include </dev/zero>\n").substr(0, 50),
            "test.bt:1:10-20: error: '/dev/zero' file not found");
}

TEST(Preprocessor, DirectiveErrors) {
  EXPECT_EQ(errors("#define\n"),
            "test.bt:1:1-7: error: macro name missing\n#define\n^~~~~~~\n");
  EXPECT_EQ(errors("#define defined 1\n"),
            "test.bt:1:9-15: error: 'defined' cannot be used as a macro "
            "name\n#define defined 1\n        ^~~~~~~\n");
  EXPECT_EQ(errors("#error stop here\n"),
            "test.bt:1:1-6: error: #error stop here\n#error stop here\n"
            "^~~~~~\n");
  EXPECT_EQ(errors("#bogus\n"),
            "test.bt:1:1-6: error: invalid preprocessing directive "
            "'#bogus'\n#bogus\n^~~~~~\nhint: hvt understands #include, "
            "#define, #undef, #if, #ifdef, #ifndef, #elif, #else, #endif, "
            "#error, #warning and #pragma\n");
  EXPECT_EQ(errors("#if 0\n#bogus\n#include <nowhere.h>\n#endif\n"), "");
  EXPECT_EQ(errors("#include nothing\n"),
            "test.bt:1:10-16: error: expected \"FILENAME\" or <FILENAME>\n"
            "#include nothing\n         ^~~~~~~\n");
}

TEST(Preprocessor, MissingHeaderPointsAtItsName) {
  PreprocessorOptions options;
  options.include_dirs = std::vector<std::string>{"/nonexistent"};
  EXPECT_EQ(errors("\n#include <net/sock.h> // kernel\n", options),
            "test.bt:2:10-21: error: 'net/sock.h' file not found\n"
            "#include <net/sock.h> // kernel\n         ^~~~~~~~~~~~\n"
            "hint: hvt reads only macros from headers and takes kernel types "
            "from BTF, so kernel-internal headers are not needed: remove the "
            "#include, or put it under '#ifndef BPFTRACE_HAVE_BTF'\n"
            "hint: searched /nonexistent\n");
}

TEST(Preprocessor, CDefinitionsAreRejectedClearly) {
  EXPECT_EQ(errors("struct task {\n  int pid;\n};\nBEGIN {}\n"),
            "test.bt:1:1-6: error: C definitions ('struct') are not "
            "supported\nstruct task {\n^~~~~~\n"
            "hint: hvt takes kernel types from BTF (/sys/kernel/btf/vmlinux); "
            "remove the definition, or put it under '#ifndef "
            "BPFTRACE_HAVE_BTF' as bpftrace's tools do\n");
  EXPECT_EQ(errors("#ifndef BPFTRACE_HAVE_BTF\nstruct task { int pid; };\n"
                   "#endif\nBEGIN {}\n"),
            "");
}

// ----------------------------------------------------- program expansion

struct Expanded {
  std::unique_ptr<ast::Program> program;
  std::string diagnostics;
};

Expanded expand_program(const std::string &text) {
  SourceFile file("test.bt", text);
  Diagnostics diags;
  PreprocessorOptions options;
  options.have_btf = true;
  Expanded out;
  auto macros = preprocess(file, diags, options);
  if (!diags.has_errors()) {
    SourceFile parsed("test.bt", macros->changed() ? macros->text() : text);
    out.program = parse_program(parsed, diags);
    if (out.program)
      expand_macros(*out.program, *macros, diags);
  }
  out.diagnostics = diags.render(file);
  return out;
}

TEST(Macros, IdentifiersBecomeTheirExpansion) {
  Expanded e = expand_program("#define N 5\n#define TWICE (N * 2)\n"
                              "#define pid 99\n"
                              "BEGIN { @x[pid] = TWICE + N; }\n");
  ASSERT_EQ(e.diagnostics, "");
  std::string dump = ast::dump_ast(*e.program);
  EXPECT_NE(dump.find("Builtin pid"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("TWICE"), std::string::npos) << dump;
  EXPECT_NE(dump.find("Integer 5"), std::string::npos) << dump;
  // The expansion points at the use.
  auto &stmt = *e.program->probes[0].body[0]->as<ast::AssignMap>();
  auto &sum = *stmt.value->as<ast::Binary>();
  EXPECT_EQ(sum.lhs->range.begin.column, 19u);
  EXPECT_EQ(sum.lhs->range.end.column, 23u);
  EXPECT_EQ(sum.lhs->as<ast::Binary>()->lhs->range.begin.column, 19u);
}

TEST(Macros, BadExpansionsPointAtTheUse) {
  EXPECT_EQ(expand_program("#define X 1 +\nBEGIN { @a = X; }\n").diagnostics,
            "test.bt:2:14: error: macro 'X' expands to '1 +', which is not "
            "an expression\nBEGIN { @a = X; }\n             ^\n"
            "test.bt:1:9: note: macro 'X' is defined here\n#define X 1 +\n"
            "        ^\n");
  EXPECT_EQ(expand_program("#define Y NOPE\nBEGIN { @a = Y; }\n").diagnostics,
            "test.bt:2:14: error: macro 'Y' expands to 'NOPE', and 'NOPE' is "
            "not defined\nBEGIN { @a = Y; }\n             ^\n"
            "test.bt:1:9: note: macro 'Y' is defined here\n#define Y NOPE\n"
            "        ^\n");
  EXPECT_EQ(
      expand_program(
          "#define ADD(a, b) ((a) + (b))\nBEGIN { @a = ADD(1, 2); }\n")
          .diagnostics,
      "test.bt:2:14-16: error: macro 'ADD' cannot be called in the program\n"
      "BEGIN { @a = ADD(1, 2); }\n             ^~~\n"
      "test.bt:1:9-11: note: macro 'ADD' is defined here\n"
      "#define ADD(a, b) ((a) + (b))\n        ^~~\n"
      "hint: as in bpftrace, function-like macros are expanded only inside "
      "'#if' and other macros; write the expression out\n");
}

TEST(Macros, EnumValuesAreNamedAsSuch) {
  EXPECT_EQ(
      expand_program(
          "#define SOCK_DGRAM SOCK_DGRAM\nBEGIN { @a = SOCK_DGRAM; }\n")
          .diagnostics,
      "test.bt:2:14-23: error: 'SOCK_DGRAM' is a C enum value, and hvt reads "
      "only macros from headers\nBEGIN { @a = SOCK_DGRAM; }\n"
      "             ^~~~~~~~~~\n"
      "test.bt:1:9-18: note: macro 'SOCK_DGRAM' is defined here\n"
      "#define SOCK_DGRAM SOCK_DGRAM\n        ^~~~~~~~~~\n"
      "hint: write its value instead\n");
}

TEST(Macros, LaterErrorsGetTheMacrosNote) {
  Diagnostics diags;
  diags.error({{2, 14}, {2, 14}}, "something about X");
  diags.error({{2, 1}, {2, 20}}, "something else");
  MacroExpansions expansions;
  expansions.uses.push_back({{{2, 14}, {2, 14}}, {{1, 9}, {1, 9}}, "note!"});
  add_macro_notes(diags, expansions);
  ASSERT_EQ(diags.all().size(), 2u);
  EXPECT_EQ(diags.all()[0].related_message, "note!");
  EXPECT_EQ(diags.all()[1].related_message, "");
  EXPECT_EQ(diags.error_count(), 2u);
}

} // namespace
} // namespace hvt
