// The character stream the parser's tokens point into.
#pragma once

#include "antlr4-runtime.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace hvt {

// The program text, one symbol per byte: what token offsets index (and what
// the generated lexer reads in lexer_test.cpp). ANTLRInputStream would
// decode UTF-8 (and throw on malformed input); bytes keep token offsets and
// columns in the units of SourceLocation, and let malformed bytes reach the
// lexer as ordinary unexpected characters.
class ByteStream : public antlr4::CharStream {
public:
  ByteStream(std::string_view text, std::string name)
      : text_(text), name_(std::move(name)) {}

  void consume() override {
    if (pos_ < text_.size())
      ++pos_;
  }
  size_t LA(ssize_t i) override {
    if (i == 0)
      return 0; // undefined by the IntStream contract
    ssize_t index = static_cast<ssize_t>(pos_) + (i > 0 ? i - 1 : i);
    if (index < 0 || static_cast<size_t>(index) >= text_.size())
      return antlr4::IntStream::EOF;
    return static_cast<unsigned char>(text_[index]);
  }
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  size_t index() override { return pos_; }
  void seek(size_t index) override { pos_ = std::min(index, text_.size()); }
  size_t size() override { return text_.size(); }
  std::string getSourceName() const override { return name_; }
  std::string getText(const antlr4::misc::Interval &interval) override {
    if (interval.a < 0 || interval.b < interval.a ||
        static_cast<size_t>(interval.a) >= text_.size())
      return "";
    size_t start = interval.a;
    size_t stop = std::min<size_t>(interval.b, text_.size() - 1);
    return std::string(text_.substr(start, stop - start + 1));
  }
  std::string toString() const override { return std::string(text_); }

private:
  std::string_view text_;
  std::string name_;
  size_t pos_ = 0;
};

} // namespace hvt
