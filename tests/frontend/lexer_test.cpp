// lex() against the lexer ANTLR generates from grammar/Hvt.g4, which stays
// the definition of hvt's tokens: same types, channels, offsets, lines and
// columns on every program the tests hold and on random text.
#include "frontend/lexer.h"

#include "generated_lexer.h"
#include "test_programs.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

namespace hvt {
namespace {

using hvt_grammar::HvtLexer;

std::string describe(const std::vector<LexedToken> &tokens) {
  std::ostringstream out;
  for (const LexedToken &t : tokens)
    out << t.type << (t.channel ? "h" : "") << "@" << t.start << ".." << t.stop
        << ":" << t.line << ":" << t.column << " ";
  return out.str();
}

void expect_same_tokens(const std::string &text, const std::string &what) {
  auto ours = lex(text);
  auto antlr = lex_with_generated_lexer(text);
  EXPECT_EQ(ours, antlr) << what << "\n  text: " << text
                         << "\n  lex():  " << describe(ours)
                         << "\n  ANTLR:  " << describe(antlr);
}

TEST(Lexer, TokensOfEachKind) {
  // The tokens themselves, so that a lexer which drops everything fails.
  auto tokens = lex("kprobe:f /pid == 1/ { @x[$1, \"s\"] += 0x1f; }");
  std::vector<size_t> types;
  for (const LexedToken &t : tokens)
    types.push_back(t.type);
  using L = HvtLexer;
  std::vector<size_t> expected{
      L::ATTACH_POINT, L::SLASH,          L::IDENT,  L::EQ,
      L::INT,          L::PRED_END,       L::LBRACE, L::MAP,
      L::LBRACKET,     L::POSITIONAL,     L::COMMA,  L::STRING,
      L::RBRACKET,     L::PLUS_ASSIGN,    L::INT,    L::SEMI,
      L::RBRACE,       antlr4::Token::EOF};
  EXPECT_EQ(types, expected);
  EXPECT_EQ(tokens[1].start, 9u);
  EXPECT_EQ(tokens[1].column, 9u);
}

TEST(Lexer, SameAsTheGrammarOnTricky) {
  const char *cases[] = {
      "",
      "#!/usr/bin/env hvt\nBEGIN { exit(); }",
      " #!x\nBEGIN{}",
      "kprobe:f/pid/{}",
      "kprobe:f// note\n{}",
      "uprobe:/bin/sh:readline { }",
      "uprobe:/bin/sh {",
      "uprobe:lib:ns::f+0x10,kprobe:a*b?[c] { }",
      "i:s:1 { $x = a ? b : c; }",
      "BEGIN / 1 ? 2 : 3 / { }",
      "BEGIN /* c */ / x / /* d */ { }",
      "BEGIN { $a = 1.5e3 + 1e6 + 0x + 0Xfg + 1_000 + 2e+ + 3.e4 + 4.5; }",
      "BEGIN { $t.0.1; $1 $# $ $x @ @y @1 }",
      "1.ee5 1._e5 1.xe5 1._5e5 1__.2_e-3_ 0_x1 0x_ 00x1 9e 9E- 9e+1",
      "BEGIN { \"a\\\"b\" \"unterminated\n \"tail\\",
      "BEGIN { \"x\\\n\" }",
      "BEGIN { a->b -> c-- - -= ++ += + *= * /= %= % &= && & |= || | ^= ^ }",
      "BEGIN { <<= << <= < >>= >> >= > == = != ! ~ ; , : ? . }",
      "BEGIN { if else while unroll return break continue struct config let "
      "int8 uint64 int32x }",
      "config = { a = 1 } BEGIN {}",
      "} } kprobe:x { }",
      "BEGIN { \x80\xc3\xa9 \\ ` # }",
      "/* unterminated",
      "BEGIN { } /",
      "a\r\nb\rc\n\td\f\ve",
  };
  for (const char *text : cases)
    expect_same_tokens(text, "case");
}

TEST(Lexer, SameAsTheGrammarOnEveryTestProgram) {
  size_t files = for_each_test_program(
      [](const std::string &path, const std::string &text) {
        expect_same_tokens(text, path);
      });
  EXPECT_GT(files, 1000u);
}

TEST(Lexer, SameAsTheGrammarOnRandomText) {
  // Text made of the characters the rules care about, so that most of it
  // sits on a boundary between two rules.
  const std::string alphabet =
      "aAzZ_09xXeE.+-*?[]#/:{}()\"\\\n\r\t @$=<>!&|^%~;,`\x80\xff";
  const char *words[] = {"kprobe:", "/*", "*/",     "//",  "if", "uint8", "0x1",
                         "1e5",     "#!", "struct", "/ {", "$#", "->",    "<<=",
                         "\"a\\",   "1.", "e",      "0x",  "_",  "9"};
  std::mt19937 random(20261127);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    size_t length = random() % 24;
    for (size_t j = 0; j < length; ++j) {
      if (random() % 4 == 0)
        text += words[random() % std::size(words)];
      else
        text += alphabet[random() % alphabet.size()];
    }
    expect_same_tokens(text, "random");
    if (HasFailure())
      return; // one counterexample is enough
  }
}

} // namespace
} // namespace hvt
