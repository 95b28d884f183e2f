// The hvt tracing language: bpftrace 0.17 syntax plus the newer `config`
// block and `let` map declarations.
//
// The parse tree never leaves compiler/frontend: ast_builder.cpp turns it
// into the hvt AST, and parser.cpp turns ANTLR's error reports into hvt
// diagnostics. Three things here are deliberately unusual:
//
//  * Attach points (`uprobe:/lib/x.so:foo*`) are single tokens, lexed only at
//    the top level (outside braces and predicates), where a word followed by
//    ':' cannot be anything else. Inside probes ':' is the ternary colon.
//  * A predicate is closed by a '/' whose next non-blank character is the
//    '{' of the probe body (PRED_END); every other '/' is a division.
//  * Malformed input (stray characters, unterminated strings and comments)
//    is lexed into dedicated tokens on the hidden channel instead of making
//    the lexer fail, so the front end can report it in its own words.
//
// The char stream feeds one byte per symbol, so token columns and offsets
// are byte offsets, matching hvt::SourceLocation.
grammar Hvt;

@lexer::members {
public:
  // The program text. Set before lexing; used to look past a '/'.
  const std::string *source = nullptr;

private:
  int braceDepth = 0;
  bool inPredicate = false;

  bool atTopLevel() const { return braceDepth == 0 && !inPredicate; }

  // True for the '/' that ends a predicate: the next thing after it, skipping
  // blanks and comments, is the '{' opening the probe body.
  bool slashEndsPredicate() const {
    if (!inPredicate || braceDepth != 0 || source == nullptr)
      return false;
    const std::string &text = *source;
    size_t i = tokenStartCharIndex + 1;
    while (i < text.size()) {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
          c == '\v') {
        ++i;
      } else if (text.compare(i, 2, "//") == 0) {
        i = text.find('\n', i);
      } else if (text.compare(i, 2, "/*") == 0) {
        i = text.find("*/", i + 2);
        if (i != std::string::npos)
          i += 2;
      } else {
        return c == '{';
      }
    }
    return false;
  }

  // After '/*': consumes through '*/' and skips the comment, or consumes
  // to the end of the input (an UNTERMINATED_COMMENT).
  void skipBlockComment() {
    auto *simulator = getInterpreter<antlr4::atn::LexerATNSimulator>();
    for (;;) {
      size_t c = _input->LA(1);
      if (c == antlr4::Token::EOF)
        return;
      simulator->consume(_input);
      if (c == '*' && _input->LA(1) == '/') {
        simulator->consume(_input);
        skip();
        return;
      }
    }
  }

public: // the generated declarations that follow are public
}

// ------------------------------------------------------------------ parser

program
  : configBlock? mapDecl* probe* EOF
  ;

// config = { max_map_keys = 4096; stack_mode = perf }
configBlock
  : CONFIG ASSIGN LBRACE (configEntry (SEMI configEntry)* SEMI?)? RBRACE SEMI?
  ;

configEntry
  : key=IDENT ASSIGN value=(INT | STRING | IDENT)
  ;

// let @m = lruhash(1024);
mapDecl
  : LET MAP ASSIGN storage=IDENT LPAREN size=INT RPAREN SEMI
  ;

probe
  : attachPoint (COMMA attachPoint)* predicate? block
  ;

attachPoint
  : ATTACH_POINT // kprobe:vfs_read, uprobe:/bin/bash:readline ...
  | IDENT        // BEGIN, END
  ;

predicate
  : SLASH expr PRED_END
  ;

block
  : LBRACE stmts RBRACE
  ;

// Deliberately loose: statements may follow each other without ';' and
// stray ';' are allowed. parser.cpp reports a missing ';' after a simple
// statement, which gives a precise message instead of a generic parse error.
stmts
  : (stmt | SEMI)*
  ;

stmt
  : IF LPAREN conds+=expr RPAREN bodies+=block
    (ELSE IF LPAREN conds+=expr RPAREN bodies+=block)*
    (ELSE elseBody=block)?                               # ifStmt
  | WHILE LPAREN expr RPAREN block                       # whileStmt
  | UNROLL LPAREN expr RPAREN block                      # unrollStmt
  | block                                                # blockStmt
  | kind=(RETURN | BREAK | CONTINUE)                     # jumpStmt
  | expr (assignOp expr)?                                # exprStmt
  ;

assignOp
  : ASSIGN
  | PLUS_ASSIGN | MINUS_ASSIGN | STAR_ASSIGN | SLASH_ASSIGN | PERCENT_ASSIGN
  | AND_ASSIGN | OR_ASSIGN | XOR_ASSIGN | SHL_ASSIGN | SHR_ASSIGN
  ;

// C precedence, tightest first.
expr
  : primary                                              # primaryExpr
  | expr op=(INCREMENT | DECREMENT)                      # postfixExpr
  | expr DOT fieldName                                   # fieldExpr
  | expr ARROW fieldName                                 # arrowExpr
  | expr DOT INT                                         # tupleIndexExpr
  | expr LBRACKET expr RBRACKET                          # indexExpr
  | op=(INCREMENT | DECREMENT | MINUS | NOT | BIT_NOT | STAR) expr  # unaryExpr
  | LPAREN castType RPAREN expr                          # castExpr
  | expr op=(STAR | SLASH | PERCENT) expr                # binaryExpr
  | expr op=(PLUS | MINUS) expr                          # binaryExpr
  | expr op=(SHL | SHR) expr                             # binaryExpr
  | expr op=(LT | LE | GT | GE) expr                     # binaryExpr
  | expr op=(EQ | NE) expr                               # binaryExpr
  | expr op=BIT_AND expr                                 # binaryExpr
  | expr op=BIT_XOR expr                                 # binaryExpr
  | expr op=BIT_OR expr                                  # binaryExpr
  | expr op=LOGICAL_AND expr                             # binaryExpr
  | expr op=LOGICAL_OR expr                              # binaryExpr
  | <assoc=right> expr QUESTION expr COLON expr          # ternaryExpr
  ;

primary
  : INT                                                  # intLiteral
  | STRING                                               # stringLiteral
  | VARIABLE                                             # variable
  | POSITIONAL                                           # positional
  | POSITIONAL_COUNT                                     # positionalCount
  | mapRef                                               # mapExpr
  | IDENT LPAREN exprList? RPAREN                        # callExpr
  | IDENT                                                # builtin
  | LPAREN expr (COMMA expr)* RPAREN                     # parenExpr
  ;

mapRef
  : MAP (LBRACKET exprList RBRACKET)?
  ;

exprList
  : expr (COMMA expr)*
  ;

// `(uint8)`, `(struct sock *)`, `(union bpf_attr *)` (`union` is no
// keyword: `IDENT IDENT` is checked by the AST builder).
castType
  : (INT_TYPE | STRUCT IDENT | IDENT IDENT) STAR*
  ;

// Keywords are fine as field names (`args->type`, `$s.if`).
fieldName
  : IDENT | INT_TYPE | CONFIG | LET | IF | ELSE | WHILE | UNROLL | RETURN
  | BREAK | CONTINUE | STRUCT
  ;

// ------------------------------------------------------------------- lexer

// These rules define hvt's tokens. The parser reads tokens from the
// hand-written compiler/frontend/lexer.cpp, which must give exactly what the
// generated lexer gives (tests/frontend/lexer_test.cpp and the fuzz target
// compare them): a generated lexer builds its DFA anew in every process.

// Keywords (before IDENT: on equal length the first rule wins).
CONFIG   : 'config' ;
LET      : 'let' ;
IF       : 'if' ;
ELSE     : 'else' ;
WHILE    : 'while' ;
UNROLL   : 'unroll' ;
RETURN   : 'return' ;
BREAK    : 'break' ;
CONTINUE : 'continue' ;
STRUCT   : 'struct' ;
INT_TYPE
  : 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  ;

// A word with at least one ':' at the top level, e.g. `kprobe:f+0x10`,
// `uprobe:/lib/libc.so.6:mall*`. Only parts followed by another ':' may
// contain '/' (paths), so `kprobe:f/pid/{` still has a predicate and
// `kprobe:f// note` a comment.
ATTACH_POINT
  : [a-zA-Z_] [a-zA-Z0-9_]* (':' (ATTACH_CHAR | '/')*)* ':' ATTACH_CHAR*
    {atTopLevel()}?
  ;
fragment ATTACH_CHAR : [a-zA-Z0-9_.\-+*?[\]#] ;

IDENT            : [a-zA-Z_] [a-zA-Z0-9_]* ;
MAP              : '@' ([a-zA-Z_] [a-zA-Z0-9_]*)? ;
VARIABLE         : '$' [a-zA-Z_] [a-zA-Z0-9_]* ;
POSITIONAL       : '$' [0-9]+ ;
POSITIONAL_COUNT : '$#' ;

// Decimal, octal (leading 0), hex, with '_' separators, and the exponent form
// `1e6` / `2.5e3`. The value (and whether it is whole) is checked by the AST
// builder. `$t.0.1` still lexes as tuple indexes: a '.' only joins the
// number when an exponent follows.
INT
  : DIGITS
  | '0' [xX] [0-9a-fA-F_]*
  | DIGITS ('.' DIGITS)? [eE] [+-]? DIGITS
  ;
fragment DIGITS : [0-9] [0-9_]* ;

// Escapes are decoded (and checked) by the AST builder.
STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;

LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACE   : '{' { ++braceDepth; inPredicate = false; } ;
RBRACE   : '}' { if (braceDepth > 0) --braceDepth; } ;
LBRACKET : '[' ;
RBRACKET : ']' ;
SEMI     : ';' ;
COMMA    : ',' ;
COLON    : ':' ;
QUESTION : '?' ;
DOT      : '.' ;
ARROW    : '->' ;

ASSIGN         : '=' ;
PLUS_ASSIGN    : '+=' ;
MINUS_ASSIGN   : '-=' ;
STAR_ASSIGN    : '*=' ;
SLASH_ASSIGN   : '/=' ;
PERCENT_ASSIGN : '%=' ;
AND_ASSIGN     : '&=' ;
OR_ASSIGN      : '|=' ;
XOR_ASSIGN     : '^=' ;
SHL_ASSIGN     : '<<=' ;
SHR_ASSIGN     : '>>=' ;

INCREMENT   : '++' ;
DECREMENT   : '--' ;
PLUS        : '+' ;
MINUS       : '-' ;
STAR        : '*' ;
PERCENT     : '%' ;
SHL         : '<<' ;
SHR         : '>>' ;
LE          : '<=' ;
GE          : '>=' ;
LT          : '<' ;
GT          : '>' ;
EQ          : '==' ;
NE          : '!=' ;
LOGICAL_AND : '&&' ;
LOGICAL_OR  : '||' ;
BIT_AND     : '&' ;
BIT_OR      : '|' ;
BIT_XOR     : '^' ;
NOT         : '!' ;
BIT_NOT     : '~' ;

// Before SLASH so it wins when its predicate holds.
PRED_END : '/' {slashEndsPredicate()}? ;
// A top-level '/' opens a predicate.
SLASH    : '/' { if (braceDepth == 0) inPredicate = true; } ;

// `#!/usr/bin/env hvt` on the very first line.
SHEBANG       : '#!' ~[\r\n]* {tokenStartCharIndex == 0}? -> skip ;
WS            : [ \t\r\n\f\u000B]+ -> skip ;
LINE_COMMENT  : '//' ~[\r\n]* -> skip ;
// '/*' starts a block comment, and skipBlockComment() consumes the rest:
// the comment is skipped or, without its '*/', is this (hidden) token,
// which the front end reports. Code, not the lexer's automaton, reads the
// body: each distinct character a comment holds would otherwise cost a DFA
// edge built at run time (~0.3 ms for a script's header comment).
UNTERMINATED_COMMENT : '/*' { skipBlockComment(); } -> channel(HIDDEN) ;

// Error tokens, reported by parser.cpp. The unterminated forms lose against
// the proper ones whenever those match (longest match wins).
UNTERMINATED_STRING  : '"' (~["\\\r\n] | '\\' ~[\r\n])* '\\'? -> channel(HIDDEN) ;
STRAY_CHAR           : . -> channel(HIDDEN) ;
