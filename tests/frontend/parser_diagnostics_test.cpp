// Golden tests for the front end's error messages: the exact rendered text,
// source line and underline included. The wording is part of the interface
// (users, docs and other tests rely on it), so changes show up here.
//
// Vocabulary:
//   unexpected X[; expected A, B or C]     X: 'token', string literal,
//                                              end of input
//   unexpected character 'c'               'c' printable, UTF-8, or '\xNN'
//   unterminated string literal / unterminated comment
//   expression|statements nested too deeply (limit 1000)
//   too many errors; stopping
//   no probes in program
//   literal problems: integer literal too large, ... (see below)
#include "frontend/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace hvt {
namespace {

std::string diagnose(const std::string &text) {
  SourceFile file("stdin", text);
  Diagnostics diags;
  auto program = parse_program(file, diags);
  EXPECT_EQ(program, nullptr) << "expected an error for: " << text;
  EXPECT_TRUE(diags.has_errors());
  return diags.render(file);
}

TEST(ParserDiagnostics, MissingSemicolonBetweenStatements) {
  EXPECT_EQ(diagnose("BEGIN {\n"
                     "  @start = nsecs\n"
                     "  printf(\"hi\\n\");\n"
                     "}\n"),
            "stdin:3:3-8: error: unexpected 'printf'; expected ';'\n"
            "  printf(\"hi\\n\");\n"
            "  ^~~~~~\n");
}

TEST(ParserDiagnostics, UnexpectedClosingBrace) {
  EXPECT_EQ(diagnose("BEGIN { exit(); } }\n"),
            "stdin:1:19: error: unexpected '}'; expected attach point or end "
            "of input\n"
            "BEGIN { exit(); } }\n"
            "                  ^\n");
}

TEST(ParserDiagnostics, UnterminatedString) {
  EXPECT_EQ(diagnose("BEGIN { printf(\"hello); }\n"),
            "stdin:1:16-25: error: unterminated string literal\n"
            "BEGIN { printf(\"hello); }\n"
            "               ^~~~~~~~~~\n");
}

TEST(ParserDiagnostics, UnterminatedComment) {
  EXPECT_EQ(diagnose("BEGIN { exit(); }\n"
                     "/* started\n"
                     "but never ended\n"),
            "stdin:2:1-2: error: unterminated comment\n"
            "/* started\n"
            "^~\n");
}

TEST(ParserDiagnostics, UnknownEscape) {
  EXPECT_EQ(diagnose("BEGIN { printf(\"a\\qb\\n\"); }\n"),
            "stdin:1:18-19: error: unknown escape sequence '\\q'\n"
            "BEGIN { printf(\"a\\qb\\n\"); }\n"
            "                 ^~\n"
            "hint: valid escapes are \\n \\t \\r \\\\ \\\" \\' \\0, \\xHH "
            "(hex) and \\NNN (octal)\n");
}

TEST(ParserDiagnostics, HexEscapeWithoutDigits) {
  EXPECT_EQ(diagnose("BEGIN { printf(\"\\xg\"); }\n"),
            "stdin:1:17-18: error: escape sequence '\\x' has no hex digits\n"
            "BEGIN { printf(\"\\xg\"); }\n"
            "                ^~\n"
            "hint: write a byte in hex as \\xHH\n");
}

TEST(ParserDiagnostics, IntegerTooLarge) {
  EXPECT_EQ(diagnose("BEGIN { @x = 18446744073709551616; }\n"),
            "stdin:1:14-33: error: integer literal too large\n"
            "BEGIN { @x = 18446744073709551616; }\n"
            "             ^~~~~~~~~~~~~~~~~~~~\n"
            "hint: the largest integer is 18446744073709551615 (2^64 - 1)\n");
}

TEST(ParserDiagnostics, ExponentLiteralNotWhole) {
  EXPECT_EQ(diagnose("BEGIN { @x = 15e-1; }\n"),
            "stdin:1:14-18: error: integer literal is not a whole number\n"
            "BEGIN { @x = 15e-1; }\n"
            "             ^~~~~\n"
            "hint: exponent literals such as 1e6 must have an integer value\n");
}

TEST(ParserDiagnostics, BadOctalDigit) {
  EXPECT_EQ(diagnose("BEGIN { @x = 0789; }\n"),
            "stdin:1:14-17: error: invalid digit '8' in octal literal\n"
            "BEGIN { @x = 0789; }\n"
            "             ^~~~\n"
            "hint: a leading 0 makes an integer literal octal\n");
}

TEST(ParserDiagnostics, EmptyProgram) {
  EXPECT_EQ(
      diagnose(""),
      "stdin:1:1: error: no probes in program\n"
      "\n"
      "^\n"
      "hint: a probe looks like: kprobe:vfs_read { @reads = count(); }\n");
}

TEST(ParserDiagnostics, ProgramWithoutProbes) {
  EXPECT_EQ(
      diagnose("// nothing but\n"
               "config = { max_map_keys = 10 }\n"),
      "stdin:2:31: error: no probes in program\n"
      "config = { max_map_keys = 10 }\n"
      "                              ^\n"
      "hint: a probe looks like: kprobe:vfs_read { @reads = count(); }\n");
}

TEST(ParserDiagnostics, NestedTooDeeply) {
  std::string line = "BEGIN { @x = " + std::string(10000, '(') + "1" +
                     std::string(10000, ')') + "; }";
  // The 1001st '(' is at column 13 + 1001.
  EXPECT_EQ(diagnose(line + "\n"),
            "stdin:1:1014: error: expression nested too deeply (limit 1000)\n" +
                line + "\n" + std::string(1013, ' ') + "^\n");
}

TEST(ParserDiagnostics, BlocksNestedTooDeeply) {
  std::string line = "BEGIN " + std::string(1001, '{') + std::string(1001, '}');
  EXPECT_EQ(diagnose(line),
            "stdin:1:1007: error: statements nested too deeply (limit 1000)\n" +
                line + "\n" + std::string(1006, ' ') + "^\n");
}

TEST(ParserDiagnostics, StrayCharacter) {
  EXPECT_EQ(diagnose("BEGIN { @x = 1; # comment\n}\n"),
            "stdin:1:17: error: unexpected character '#'\n"
            "BEGIN { @x = 1; # comment\n"
            "                ^\n");
}

TEST(ParserDiagnostics, NonUtf8Byte) {
  EXPECT_EQ(diagnose("BEGIN { @x = \xff; }\n"),
            "stdin:1:14: error: unexpected character '\\xff'\n"
            "BEGIN { @x = \xff; }\n"
            "             ^\n");
}

TEST(ParserDiagnostics, NonAsciiCharacterOutsideString) {
  EXPECT_EQ(diagnose("BEGIN { $caf\xc3\xa9 = 1; }\n"),
            "stdin:1:13-14: error: unexpected character '\xc3\xa9'\n"
            "BEGIN { $caf\xc3\xa9 = 1; }\n"
            "            ^~\n");
}

TEST(ParserDiagnostics, MissingClosingBraceAtEndOfInput) {
  EXPECT_EQ(diagnose("kprobe:vfs_read {\n"
                     "  @reads = count();\n"),
            "stdin:2:20: error: unexpected end of input; expected '}'\n"
            "  @reads = count();\n"
            "                   ^\n"
            "stdin:1:17: note: to match this '{'\n"
            "kprobe:vfs_read {\n"
            "                ^\n");
}

TEST(ParserDiagnostics, MissingClosingParenAtEndOfInput) {
  EXPECT_EQ(diagnose("BEGIN { printf(\"%d\\n\", pid\n"),
            "stdin:1:27: error: unexpected end of input; expected ')'\n"
            "BEGIN { printf(\"%d\\n\", pid\n"
            "                          ^\n"
            "stdin:1:15: note: to match this '('\n"
            "BEGIN { printf(\"%d\\n\", pid\n"
            "              ^\n");
}

TEST(ParserDiagnostics, MissingExpression) {
  EXPECT_EQ(diagnose("BEGIN { @x = ; }\n"),
            "stdin:1:14: error: unexpected ';'; expected expression\n"
            "BEGIN { @x = ; }\n"
            "             ^\n");
}

TEST(ParserDiagnostics, MissingCommaBetweenArguments) {
  EXPECT_EQ(diagnose("BEGIN { printf(\"%d\" pid); }\n"),
            "stdin:1:21-23: error: unexpected 'pid'; expected ')' or ','\n"
            "BEGIN { printf(\"%d\" pid); }\n"
            "                    ^~~\n");
}

TEST(ParserDiagnostics, TrailingCommaInCall) {
  EXPECT_EQ(diagnose("BEGIN { printf(\"x\",); }\n"),
            "stdin:1:20: error: unexpected ')'; expected expression\n"
            "BEGIN { printf(\"x\",); }\n"
            "                   ^\n");
}

TEST(ParserDiagnostics, PredicateWithoutClosingSlash) {
  EXPECT_EQ(diagnose("kprobe:f /pid == 1 { }\n"),
            "stdin:1:20: error: unexpected '{'; expected '/'\n"
            "kprobe:f /pid == 1 { }\n"
            "                   ^\n");
}

TEST(ParserDiagnostics, AttachPointWithoutBody) {
  EXPECT_EQ(diagnose("kprobe:vfs_read\n"),
            "stdin:1:16: error: unexpected end of input; expected '{', ',' or "
            "'/'\n"
            "kprobe:vfs_read\n"
            "               ^\n");
}

TEST(ParserDiagnostics, ElseWithoutBlock) {
  EXPECT_EQ(diagnose("BEGIN { if (pid) { } else exit(); }\n"),
            "stdin:1:27-30: error: unexpected 'exit'; expected 'if' or '{'\n"
            "BEGIN { if (pid) { } else exit(); }\n"
            "                          ^~~~\n");
}

TEST(ParserDiagnostics, AssignmentToBuiltin) {
  EXPECT_EQ(diagnose("BEGIN { pid = 1; }\n"),
            "stdin:1:13: error: unexpected '='\n"
            "BEGIN { pid = 1; }\n"
            "            ^\n");
}

TEST(ParserDiagnostics, MissingFieldName) {
  EXPECT_EQ(diagnose("BEGIN { $x = curtask->; }\n"),
            "stdin:1:23: error: unexpected ';'; expected field name\n"
            "BEGIN { $x = curtask->; }\n"
            "                      ^\n");
}

TEST(ParserDiagnostics, StructCastByValueIsRejected) {
  EXPECT_EQ(diagnose("kprobe:f { $t = (struct task_struct)curtask; }\n"),
            "stdin:1:18-35: error: cannot cast to struct task_struct by value\n"
            "kprobe:f { $t = (struct task_struct)curtask; }\n"
            "                 ^~~~~~~~~~~~~~~~~~\n"
            "hint: cast to a pointer instead: (struct task_struct *)\n");
}

TEST(ParserDiagnostics, UnknownCastTypeIsRejected) {
  std::string d = diagnose("kprobe:f { $t = (enum foo *)arg0; }\n");
  EXPECT_EQ(d.substr(0, d.find('\n')),
            "stdin:1:18-27: error: unknown type 'enum foo'");
}

TEST(ParserDiagnostics, PositionalZero) {
  EXPECT_EQ(diagnose("BEGIN { @x = $0; }\n"),
            "stdin:1:14-15: error: there is no positional parameter $0\n"
            "BEGIN { @x = $0; }\n"
            "             ^~\n"
            "hint: positional parameters are numbered from $1; $# is their "
            "count\n");
}

// Every line with an error is reported, in source order, and recovery does
// not turn one mistake into several.
TEST(ParserDiagnostics, OneErrorPerLineInSourceOrder) {
  EXPECT_EQ(diagnose("BEGIN {\n"
                     "  @a = ;\n"
                     "  @b = 1 @c = 2; @d = ;\n"
                     "  foo(1 2);\n"
                     "  @e = 1;\n"
                     "}\n"),
            "stdin:2:8: error: unexpected ';'; expected expression\n"
            "  @a = ;\n"
            "       ^\n"
            "stdin:3:10-11: error: unexpected '@c'; expected ';'\n"
            "  @b = 1 @c = 2; @d = ;\n"
            "         ^~\n"
            "stdin:4:9: error: unexpected '2'; expected ')' or ','\n"
            "  foo(1 2);\n"
            "        ^\n");
}

TEST(ParserDiagnostics, StopsAfterTenLines) {
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += "BEGIN { @x = ; }\n";
  std::string expected;
  for (int i = 1; i <= 10; ++i)
    expected += "stdin:" + std::to_string(i) +
                ":14: error: unexpected ';'; expected expression\n"
                "BEGIN { @x = ; }\n"
                "             ^\n";
  expected += "stdin: error: too many errors; stopping\n";
  EXPECT_EQ(diagnose(text), expected);
}

} // namespace
} // namespace hvt
