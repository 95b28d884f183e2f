// The lexer: program text -> the tokens the ANTLR parser reads.
//
// It produces exactly what the lexer rules in grammar/Hvt.g4 define (the
// same types, channels, offsets, lines and columns; lexer_test.cpp checks it
// against the generated lexer on every test program and on random text).
// It is written by hand because the generated lexer builds its DFA from
// nothing in every process: ~1.5 ms of a 2.5 KB script's start, ~40 us here.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace hvt {

struct LexedToken {
  size_t type = 0;    // a HvtLexer token type, or antlr4::Token::EOF
  size_t channel = 0; // antlr4::Token::DEFAULT_CHANNEL or HIDDEN_CHANNEL
  size_t start = 0;   // byte offset of the first byte
  size_t stop = 0;    // byte offset of the last byte (start - 1 for EOF)
  size_t line = 1;    // 1-based; only '\n' starts a line
  size_t column = 0;  // 0-based, in bytes

  bool operator==(const LexedToken &) const = default;
};

// Every token the parser sees or check_tokens() reports, in order, ending
// with EOF. Whitespace, comments and the first line's `#!` are skipped.
std::vector<LexedToken> lex(std::string_view text);

} // namespace hvt
