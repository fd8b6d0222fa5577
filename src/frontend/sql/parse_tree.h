// Access to libpg_query's JSON parse tree, shared by the executor (sql/) and the session's
// statement handlers (frontend/session*.cc). A node is an object with one key naming its kind
// ({"ColumnRef": {...}}); libpg_query leaves out fields that are empty, zero or false, so every
// accessor here has a default for an absent field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rwmeta::frontend::sql {

// ---- Field access. These never throw: a missing field or one of another JSON type reads as the
// default (nullptr, "", `def`, false, an empty array).

// The field `key` of object `j`, or nullptr.
const nlohmann::json* Get(const nlohmann::json& j, const char* key);
std::string GetStr(const nlohmann::json& j, const char* key);
int64_t GetInt(const nlohmann::json& j, const char* key, int64_t def = 0);
bool GetBool(const nlohmann::json& j, const char* key);
const nlohmann::json& EmptyArray();
const nlohmann::json& GetList(const nlohmann::json& j, const char* key);
// The single key of a node object ("ColumnRef") and its body; "" and nullptr if `n` is not a
// node.
std::string NodeKind(const nlohmann::json& n, const nlohmann::json** body);
// [{"String":{"sval":"a"}}, ...] → {"a", ...}
std::vector<std::string> StringList(const nlohmann::json& list);
// `j` without its "location" fields, so that two trees of the same expression compare equal.
nlohmann::json StripLocations(const nlohmann::json& j);
// The lower-cased last name of a FuncCall's funcname (`pg_catalog.Count` → "count").
std::string FuncName(const nlohmann::json& func_call);

// ---- Statement arguments (the session's handlers). ConstText and MaxParamRef read with
// nlohmann's checked accessors (`value`), which throw on a tree libpg_query does not produce.

// The text of a libpg_query String node ({"String": {"sval": ...}}) or plain {"sval": ...}.
std::string StrOf(const nlohmann::json& node);
// Names of a List node or array of String nodes.
std::vector<std::string> NameList(const nlohmann::json& node);
// The value of a constant argument (A_Const, or a TypeCast of one) as text; nullopt if `node` is
// not a plain constant.
std::optional<std::string> ConstText(const nlohmann::json& node);
// Collects the placeholders' count ($n) in a parse tree.
int MaxParamRef(const nlohmann::json& node);

}  // namespace rwmeta::frontend::sql
