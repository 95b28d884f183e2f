// --- performance: ANTLR's runtime reaches its XPath engine only from
// ParseTreePattern::findAll(), which hvt never calls. Linked in, XPath
// brings XPathLexer, whose static initializer deserializes a lexer ATN at
// every start of hvt. Defining XPath's out-of-line members here keeps the
// linker from pulling XPath.cpp.o, and with it XPathLexer.cpp.o, out of
// the static ANTLR archive (the same way codegen_plugin_pass_builder.cpp
// keeps LLVM's PassBuilder out of the code generator).
#include <tree/xpath/XPath.h>
#include <tree/xpath/XPathElement.h>

#include <cstdio>
#include <cstdlib>

namespace antlr4::tree::xpath {

namespace {
[[noreturn]] void unavailable() {
  std::fputs("hvt: internal error: ANTLR's XPath is not linked in\n", stderr);
  std::abort();
}
} // namespace

XPath::XPath(Parser *, const std::string &) { unavailable(); }
std::vector<std::unique_ptr<XPathElement>> XPath::split(const std::string &) {
  unavailable();
}
std::vector<ParseTree *> XPath::evaluate(ParseTree *) { unavailable(); }
std::unique_ptr<XPathElement> XPath::getXPathElement(Token *, bool) {
  unavailable();
}

} // namespace antlr4::tree::xpath
