// Internal to the session's statement handlers (session.cc, session_ddl.cc, session_dml.cc,
// session_users.cc, session_show_set.cc, session_backup.cc): the small result-set and text helpers
// they share. Not a public API: callers use session.h.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/sql/parse_tree.h"
#include "frontend/sql/sql_error.h"
#include "meta/catalog_manager.h"
#include "pgwire/session.h"

namespace rwmeta::frontend {
namespace session_internal {

inline std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `s` without leading white space and trailing white space or semicolons.
inline std::string Trim(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// A result with only a command tag ("CREATE TABLE").
inline pgwire::ResultSet Tag(std::string tag) {
  pgwire::ResultSet r;
  r.command_tag = std::move(tag);
  return r;
}

// A command tag with the DDL's notices ("table \"t\" already exists, skipping").
inline pgwire::ResultSet WithNotices(std::string tag, const meta::DdlResult& ddl) {
  pgwire::ResultSet r = Tag(std::move(tag));
  r.notices = ddl.notices;
  return r;
}

// A text-column result set.
inline pgwire::ResultSet TextRows(const std::vector<std::string>& names,
                                  std::vector<std::vector<pgwire::TextValue>> rows,
                                  std::string tag) {
  pgwire::ResultSet r;
  r.command_tag = std::move(tag);
  r.returns_rows = true;
  for (const auto& n : names) r.fields.push_back({n, pgwire::kVarcharOid, -1});
  r.rows = std::move(rows);
  return r;
}

}  // namespace session_internal

// The names every handler file uses unqualified, declared once here instead of at the top of each
// file. This header is internal to those files, so the declarations reach no other code.
using json = nlohmann::json;
using pgwire::ResultSet;
using pgwire::TextValue;
using session_internal::Lower;
using session_internal::Tag;
using session_internal::TextRows;
using session_internal::Trim;
using session_internal::WithNotices;
using sql::ConstText;
using sql::NameList;
using sql::NotSupported;
using sql::SqlError;
using sql::StrOf;

}  // namespace rwmeta::frontend
