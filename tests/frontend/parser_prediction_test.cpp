// The SLL parse's shortcut predictions (parser.cpp) against ANTLR's own:
// the same tree on every program the tests hold, and the same verdict on
// text the SLL parse does not accept.
#include "frontend/parser.h"

#include "test_programs.h"

#include <gtest/gtest.h>


namespace hvt {
namespace {

void expect_same_tree(const std::string &text, const std::string &what) {
  EXPECT_EQ(sll_parse_tree_for_testing(text, true),
            sll_parse_tree_for_testing(text, false))
      << what << "\n  text: " << text;
}

TEST(ShortcutPrediction, TheTreeOfEachKindOfPrimary) {
  const std::string text =
      "BEGIN { $a = 1 + \"s\" + $b + $1 + $# + @m + @k[1, 2] + @k[1][2] +"
      " f(1) + f() + g + (h) + (uint8)x + (f)(1); f (1); @x[1] = g (2) }";
  std::string tree = sll_parse_tree_for_testing(text, true);
  // A name before '(' is a call, also where a parenthesized statement
  // could follow it; '[' after a map starts its keys.
  EXPECT_NE(tree.find("(primary f ( (exprList (expr (primary 1))) ))"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("(primary g ( (exprList (expr (primary 2))) ))"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("(mapRef @k [ (exprList (expr (primary 1)) ,"),
            std::string::npos)
      << tree;
  expect_same_tree(text, "each kind");
}

TEST(ShortcutPrediction, SameTreeAsAntlrOnEveryTestProgram) {
  size_t accepted = 0;
  size_t files = for_each_test_program(
      [&](const std::string &path, const std::string &text) {
        std::string with = sll_parse_tree_for_testing(text, true);
        EXPECT_EQ(with, sll_parse_tree_for_testing(text, false)) << path;
        accepted += !with.empty();
      });
  EXPECT_GT(files, 1000u);
  EXPECT_GT(accepted, 300u);
}

} // namespace
} // namespace hvt
