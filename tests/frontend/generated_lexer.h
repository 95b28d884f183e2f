// The tokens of the lexer ANTLR generates from grammar/Hvt.g4, which the
// hand-written lex() must reproduce: for lexer_test.cpp and the fuzz target.
#pragma once

#include "frontend/byte_stream.h"
#include "frontend/lexer.h"

#include "HvtLexer.h"

#include <string>
#include <vector>

namespace hvt {

inline std::vector<LexedToken>
lex_with_generated_lexer(const std::string &text) {
  ByteStream input(text, "generated_lexer");
  hvt_grammar::HvtLexer lexer(&input);
  lexer.source = &text;
  lexer.removeErrorListeners();
  std::vector<LexedToken> tokens;
  for (;;) {
    auto token = lexer.nextToken();
    tokens.push_back({token->getType(), token->getChannel(),
                      token->getStartIndex(), token->getStopIndex(),
                      token->getLine(), token->getCharPositionInLine()});
    if (token->getType() == antlr4::Token::EOF)
      return tokens;
  }
}

} // namespace hvt
