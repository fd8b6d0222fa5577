#include "frontend/sql/parse_tree.h"

#include <algorithm>
#include <cctype>

namespace rwmeta::frontend::sql {

using Json = nlohmann::json;

// ---------------------------------------------------------------- field access (never throws)

const Json* Get(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}
std::string GetStr(const Json& j, const char* key) {
  const Json* v = Get(j, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}
int64_t GetInt(const Json& j, const char* key, int64_t def) {
  const Json* v = Get(j, key);
  return v && v->is_number_integer() ? v->get<int64_t>() : def;
}
bool GetBool(const Json& j, const char* key) {
  const Json* v = Get(j, key);
  return v && v->is_boolean() && v->get<bool>();
}
const Json& EmptyArray() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}
const Json& GetList(const Json& j, const char* key) {
  const Json* v = Get(j, key);
  return v && v->is_array() ? *v : EmptyArray();
}
std::string NodeKind(const Json& n, const Json** body) {
  if (!n.is_object() || n.size() != 1) {
    *body = nullptr;
    return "";
  }
  *body = &n.begin().value();
  return n.begin().key();
}
std::vector<std::string> StringList(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& item : list) {
    const Json* s = Get(item, "String");
    out.push_back(s ? GetStr(*s, "sval") : std::string());
  }
  return out;
}
Json StripLocations(const Json& j) {
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "location") out[it.key()] = StripLocations(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const Json& x : j) out.push_back(StripLocations(x));
    return out;
  }
  return j;
}

std::string FuncName(const Json& func_call) {
  std::vector<std::string> parts = StringList(GetList(func_call, "funcname"));
  if (parts.empty()) return "";
  std::string n = parts.back();
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

// ---------------------------------------------------------------- statement arguments

std::string StrOf(const Json& node) {
  if (const Json* s = Get(node, "String")) return GetStr(*s, "sval");
  return GetStr(node, "sval");
}

std::vector<std::string> NameList(const Json& node) {
  std::vector<std::string> out;
  const Json* list = Get(node, "List");
  const Json& items = list ? GetList(*list, "items") : node;
  if (!items.is_array()) return out;
  for (const auto& item : items) out.push_back(StrOf(item));
  return out;
}

std::optional<std::string> ConstText(const Json& node) {
  if (node.contains("TypeCast")) return ConstText(node["TypeCast"]["arg"]);
  if (!node.contains("A_Const")) return std::nullopt;
  const Json& c = node["A_Const"];
  if (c.value("isnull", false)) return std::nullopt;
  // libpg_query omits zero values: {"ival": {}} is 0.
  if (c.contains("ival")) return std::to_string(c["ival"].value("ival", int64_t{0}));
  if (c.contains("fval")) return c["fval"].value("fval", std::string("0"));
  if (c.contains("sval")) return c["sval"].value("sval", std::string());
  if (c.contains("boolval"))
    return std::string(c["boolval"].value("boolval", false) ? "true" : "false");
  return std::nullopt;
}

int MaxParamRef(const Json& node) {
  int n = 0;
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "ParamRef") n = std::max(n, it.value().value("number", 0));
      n = std::max(n, MaxParamRef(it.value()));
    }
  } else if (node.is_array()) {
    for (const auto& v : node) n = std::max(n, MaxParamRef(v));
  }
  return n;
}

}  // namespace rwmeta::frontend::sql
