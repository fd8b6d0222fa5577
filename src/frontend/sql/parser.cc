#include "frontend/sql/parser.h"

#include <pg_query.h>

#include <cctype>
#include <optional>

#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql {
namespace {

using Json = nlohmann::json;

// A token of the thin RisingWave layer: words (lower-cased unless quoted), strings, numbers and
// single punctuation characters.
struct Token {
  enum Kind { kWord, kQuotedIdent, kString, kNumber, kPunct } kind;
  std::string text;
  size_t offset;
};

// Tokenizes `s`, skipping whitespace and comments. nullopt when the text has something the thin
// layer cannot read (an unterminated string); the statement then goes to libpg_query, which
// reports the error in PostgreSQL's words.
std::optional<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 0;
      do {
        if (s.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      } while (depth > 0 && i < s.size());
      if (depth > 0) return std::nullopt;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = i;
      std::string w;
      while (i < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '$')) {
        w += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i++])));
      }
      out.push_back({Token::kWord, w, b});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t b = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({Token::kNumber, std::string(s.substr(b, i - b)), b});
    } else if (c == '\'' || c == '"') {
      size_t b = i++;
      std::string v;
      while (true) {
        if (i >= s.size()) return std::nullopt;
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            v += c;
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        v += s[i++];
      }
      out.push_back({c == '\'' ? Token::kString : Token::kQuotedIdent, v, b});
    } else {
      out.push_back({Token::kPunct, std::string(1, c), i++});
    }
  }
  return out;
}

bool IsWord(const std::vector<Token>& t, size_t i, const char* w) {
  return i < t.size() && t[i].kind == Token::kWord && t[i].text == w;
}
bool IsPunct(const std::vector<Token>& t, size_t i, const char* p) {
  return i < t.size() && t[i].kind == Token::kPunct && t[i].text == p;
}
bool IsIdent(const std::vector<Token>& t, size_t i) {
  return i < t.size() && (t[i].kind == Token::kWord || t[i].kind == Token::kQuotedIdent);
}

// PostgreSQL's wording for an unexpected token (or the end of the input).
Status SyntaxErrorAt(const std::vector<Token>& t, size_t i, std::string_view stmt) {
  if (i >= t.size()) return SyntaxError("syntax error at end of input");
  const Token& tok = t[i];
  std::string shown =
      tok.kind == Token::kString        ? std::string(stmt.substr(tok.offset, 1)) + tok.text
      : tok.kind == Token::kQuotedIdent ? tok.text
                                        : std::string(stmt.substr(tok.offset, tok.text.size()));
  if (tok.kind == Token::kString) shown += "'";
  return SyntaxError("syntax error at or near \"" + shown + "\"");
}

// Parses the RisingWave statements; nullopt if `stmt` is none of them.
std::optional<Result<ParsedStatement>> ParseExtension(std::string_view stmt) {
  auto toks_opt = Tokenize(stmt);
  if (!toks_opt || toks_opt->empty()) return std::nullopt;
  const std::vector<Token>& t = *toks_opt;
  // A trailing semicolon is part of the split statement's text in some cases.
  size_t n = t.size();
  if (IsPunct(t, n - 1, ";")) --n;
  ParsedStatement out;
  out.text = std::string(stmt);
  auto done = [&](size_t i) -> std::optional<Result<ParsedStatement>> {
    if (i != n) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    return Result<ParsedStatement>(out);
  };
  if (IsWord(t, 0, "backup")) {
    out.kind = StatementKind::kBackup;
    return done(1);
  }
  if (IsWord(t, 0, "flush")) {
    out.kind = StatementKind::kFlush;
    return done(1);
  }
  if (IsWord(t, 0, "show") && IsWord(t, 1, "parameters")) {
    out.kind = StatementKind::kShowParameters;
    return done(2);
  }
  if (IsWord(t, 0, "delete") && IsWord(t, 1, "meta")) {
    out.kind = StatementKind::kDeleteMetaSnapshots;
    if (!IsWord(t, 2, "snapshot") && !IsWord(t, 2, "snapshots")) {
      // RisingWave's parser says "expected SNAPSHOT or SNAPSHOTS"; keep PostgreSQL's position text.
      Status s = SyntaxErrorAt(t, 2, stmt);
      return Result<ParsedStatement>(
          SyntaxError(std::string(s.message()) + ": expected SNAPSHOT or SNAPSHOTS"));
    }
    size_t i = 3;
    while (true) {
      if (i >= n || t[i].kind != Token::kNumber) {
        return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
      }
      uint64_t id = 0;
      for (char c : t[i].text) {
        uint64_t digit = static_cast<uint64_t>(c - '0');
        if (!std::isdigit(static_cast<unsigned char>(c)) || id > (UINT64_MAX - digit) / 10) {
          return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
        }
        id = id * 10 + digit;
      }
      out.snapshot_ids.push_back(id);
      ++i;
      if (!IsPunct(t, i, ",")) break;
      ++i;
    }
    return done(i);
  }
  // [schema.]name at t[*i]; advances *i. False (and *i at the bad token) if there is none.
  auto qualified_name = [&](size_t* i, std::string* schema, std::string* name) {
    if (!IsIdent(t, *i)) return false;
    *name = t[(*i)++].text;
    if (IsPunct(t, *i, ".")) {
      if (!IsIdent(t, *i + 1)) {
        ++*i;
        return false;
      }
      *schema = *name;
      *name = t[*i + 1].text;
      *i += 2;
    }
    return true;
  };
  if (IsWord(t, 0, "drop") && IsWord(t, 1, "secret")) {
    out.kind = StatementKind::kDropSecret;
    size_t i = 2;
    bool if_exists = false;
    if (IsWord(t, i, "if") && IsWord(t, i + 1, "exists")) {
      if_exists = true;
      i += 2;
    }
    std::string schema, name;
    if (!qualified_name(&i, &schema, &name)) {
      return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    }
    out.node = {{"name", name}, {"schema", schema}, {"if_exists", if_exists}};
    return done(i);
  }
  if (IsWord(t, 0, "show") && IsWord(t, 1, "tables") && IsWord(t, 2, "from")) {
    out.kind = StatementKind::kShowTablesFrom;
    if (!IsIdent(t, 3)) return Result<ParsedStatement>(SyntaxErrorAt(t, 3, stmt));
    out.node = {{"schema", t[3].text}};
    return done(4);
  }
  if (IsWord(t, 0, "create") && IsWord(t, 1, "secret")) {
    out.kind = StatementKind::kCreateSecret;
    size_t i = 2;
    bool if_not_exists = false;
    if (IsWord(t, i, "if") && IsWord(t, i + 1, "not") && IsWord(t, i + 2, "exists")) {
      if_not_exists = true;
      i += 3;
    }
    std::string schema, name;
    if (!qualified_name(&i, &schema, &name)) {
      return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    }
    nlohmann::json with = nlohmann::json::object();
    if (!IsWord(t, i, "with")) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    if (!IsPunct(t, ++i, "(")) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    ++i;
    while (true) {
      if (!IsIdent(t, i)) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
      std::string key = t[i++].text;
      while (IsPunct(t, i, ".") && IsIdent(t, i + 1)) {  // dotted option names
        key += "." + t[i + 1].text;
        i += 2;
      }
      if (!IsPunct(t, i, "=")) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
      ++i;
      if (i >= n || t[i].kind == Token::kPunct) {
        return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
      }
      with[key] = t[i++].text;
      if (IsPunct(t, i, ",")) {
        ++i;
        continue;
      }
      if (!IsPunct(t, i, ")")) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
      ++i;
      break;
    }
    if (!IsWord(t, i, "as")) return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    ++i;
    if (i >= n || t[i].kind != Token::kString) {
      return Result<ParsedStatement>(SyntaxErrorAt(t, i, stmt));
    }
    out.node = {{"name", name},
                {"schema", schema},
                {"if_not_exists", if_not_exists},
                {"with", with},
                {"value", t[i].text}};
    return done(i + 1);
  }
  return std::nullopt;
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits on semicolons outside strings, quoted identifiers, comments, dollar quotes and
// parentheses. libpg_query's scanner-based splitter drops statements that start with an identifier
// (BACKUP, FLUSH), so the thin layer needs its own. An unterminated literal ends the text; the
// parser then reports it in PostgreSQL's words.
std::vector<std::pair<int, int>> SplitStatements(const std::string& s) {
  std::vector<std::pair<int, int>> out;
  size_t start = 0, i = 0;
  int depth = 0;
  auto flush = [&](size_t end) {
    out.emplace_back(static_cast<int>(start), static_cast<int>(end - start));
    start = end + 1;
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int nest = 0;
      while (i < s.size()) {
        if (s.compare(i, 2, "/*") == 0) {
          ++nest;
          i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
          i += 2;
          if (--nest == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '\'' || c == '"') {
      bool backslash =
          c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
          (i < 2 || !(std::isalnum(static_cast<unsigned char>(s[i - 2])) || s[i - 2] == '_'));
      ++i;
      while (i < s.size()) {
        if (backslash && s[i] == '\\') {
          i += 2;
          continue;
        }
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    } else if (c == '$' && (i == 0 || !(std::isalnum(static_cast<unsigned char>(s[i - 1])) ||
                                        s[i - 1] == '_'))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j < s.size() && s[j] == '$' && !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        std::string tag = s.substr(i, j - i + 1);
        size_t end = s.find(tag, j + 1);
        i = end == std::string::npos ? s.size() : end + tag.size();
      } else {
        i = j;
      }
    } else {
      if (c == '(') ++depth;
      if (c == ')' && depth > 0) --depth;
      if (c == ';' && depth == 0) flush(i);
      ++i;
    }
  }
  if (start < s.size())
    out.emplace_back(static_cast<int>(start), static_cast<int>(s.size() - start));
  return out;
}

// libpg_query 15-4.0.0 writes a negative integer constant as `"ival": {}` (the same as 0) in its
// JSON output. Re-read such constants from the statement text at their location.
void FixNegativeIntegers(Json& node, std::string_view text) {
  if (node.is_object()) {
    auto it = node.find("A_Const");
    if (it != node.end() && it->is_object()) {
      auto iv = it->find("ival");
      auto loc = it->find("location");
      if (iv != it->end() && iv->is_object() && iv->empty() && loc != it->end() &&
          loc->is_number_integer() && loc->get<int64_t>() >= 0 &&
          static_cast<size_t>(loc->get<int64_t>()) < text.size()) {
        size_t p = static_cast<size_t>(loc->get<int64_t>());
        bool neg = false;
        while (p < text.size() &&
               (text[p] == '-' || std::isspace(static_cast<unsigned char>(text[p])))) {
          if (text[p] == '-') neg = !neg;
          ++p;
        }
        int64_t v = 0;
        while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p])) &&
               v < (1LL << 40)) {
          v = v * 10 + (text[p++] - '0');
        }
        if (v != 0) (*iv)["ival"] = neg ? -v : v;
      }
    }
    for (auto& item : node.items()) FixNegativeIntegers(item.value(), text);
  } else if (node.is_array()) {
    for (auto& v : node) FixNegativeIntegers(v, text);
  }
}

Result<ParsedStatement> ParsePostgres(std::string_view stmt) {
  std::string text(stmt);
  PgQueryParseResult r = pg_query_parse(text.c_str());
  if (r.error != nullptr) {
    std::string message = r.error->message != nullptr ? r.error->message : "syntax error";
    pg_query_free_parse_result(r);
    return SyntaxError(message);
  }
  nlohmann::json tree = nlohmann::json::parse(r.parse_tree != nullptr ? r.parse_tree : "", nullptr,
                                              /*allow_exceptions=*/false);
  pg_query_free_parse_result(r);
  if (tree.is_discarded() || !tree.is_object()) {
    return InternalError("libpg_query returned an unreadable parse tree");
  }
  ParsedStatement out;
  out.text = text;
  if (!tree.contains("stmts") || !tree["stmts"].is_array() || tree["stmts"].empty()) {
    out.node = nullptr;
    return out;
  }
  const nlohmann::json& first = tree["stmts"][0];
  if (!first.is_object() || !first.contains("stmt")) {
    out.node = nullptr;
    return out;
  }
  out.node = first["stmt"];
  FixNegativeIntegers(out.node, text);
  return out;
}

}  // namespace

Result<std::vector<ParsedStatement>> ParseSql(std::string_view sql) {
  std::string input(sql);
  std::vector<std::pair<int, int>> ranges = SplitStatements(input);
  std::vector<ParsedStatement> out;
  for (auto [loc, len] : ranges) {
    if (loc < 0 || static_cast<size_t>(loc) > input.size()) continue;
    std::string_view piece = std::string_view(input).substr(static_cast<size_t>(loc));
    piece = piece.substr(0, static_cast<size_t>(len));
    piece = TrimView(piece);
    auto toks = Tokenize(piece);
    if (toks && toks->empty()) continue;  // only comments
    if (auto ext = ParseExtension(piece)) {
      if (!ext->ok()) return ext->status();
      out.push_back(std::move(ext->value()));
      continue;
    }
    // PostgreSQL's grammar has no IF NOT EXISTS for CREATE DATABASE and CREATE USER; RisingWave
    // accepts it. Parse the statement without those words and mark the node.
    std::string without_if_not_exists;
    const char* marked_node = nullptr;
    if (toks && toks->size() > 5 && IsWord(*toks, 0, "create") &&
        (IsWord(*toks, 1, "database") || IsWord(*toks, 1, "user")) && IsWord(*toks, 2, "if") &&
        IsWord(*toks, 3, "not") && IsWord(*toks, 4, "exists")) {
      size_t from = (*toks)[2].offset;
      size_t to = (*toks)[4].offset + (*toks)[4].text.size();
      without_if_not_exists = std::string(piece.substr(0, from)) + std::string(piece.substr(to));
      marked_node = IsWord(*toks, 1, "database") ? "CreatedbStmt" : "CreateRoleStmt";
    }
    RWMETA_ASSIGN_OR_RETURN(
        ParsedStatement stmt,
        ParsePostgres(marked_node ? std::string_view(without_if_not_exists) : piece));
    if (stmt.node.is_null()) continue;
    if (marked_node != nullptr && stmt.node.contains(marked_node)) {
      stmt.node[marked_node]["if_not_exists"] = true;
      stmt.text = std::string(piece);
    }
    out.push_back(std::move(stmt));
  }
  return out;
}

}  // namespace rwmeta::frontend::sql
