#include "common/config.h"

#include <fmt/format.h>

// Header-only, without exceptions: project code does not throw, and the parse result carries
// errors.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rwmeta {

Config::Config(std::vector<Option> options) : options_(std::move(options)) {
  for (const auto& o : options_) {
    if (o.default_value.has_value()) values_[o.key] = Entry{*o.default_value, Source::kDefault};
  }
}

const Config::Option* Config::Find(std::string_view key) const {
  for (const auto& o : options_) {
    if (o.key == key) return &o;
  }
  return nullptr;
}

Status Config::Set(std::string_view key, std::string value, Source source) {
  if (Find(key) == nullptr) return InvalidArgumentError(fmt::format("unknown option {}", key));
  auto& entry = values_[std::string(key)];
  if (static_cast<int>(source) >= static_cast<int>(entry.source)) {
    entry = Entry{std::move(value), source};
  }
  return Status::Ok();
}

Status Config::LoadTomlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError(fmt::format("config file {} cannot be opened", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return LoadTomlText(buf.str(), path);
}

namespace {

// Converts a scalar TOML node to the string spelling the other layers use.
std::optional<std::string> ScalarToString(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
  return std::nullopt;
}

}  // namespace

Status Config::LoadTomlText(std::string_view text, std::string_view origin) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const auto& err = parsed.error();
    return InvalidArgumentError(
        fmt::format("config {} line {}: {}", origin, err.source().begin.line, err.description()));
  }
  Status status;
  std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& table, const std::string& prefix) {
        for (const auto& [k, node] : table) {
          if (!status.ok()) return;
          std::string key =
              prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
          if (const toml::table* sub = node.as_table()) {
            walk(*sub, key);
            continue;
          }
          if (Find(key) == nullptr) {
            status = InvalidArgumentError(fmt::format("config {}: unknown key {}", origin, key));
            return;
          }
          std::optional<std::string> value;
          if (const toml::array* arr = node.as_array()) {
            std::string joined;
            bool ok = true;
            for (const auto& item : *arr) {
              auto s = ScalarToString(item);
              if (!s) {
                ok = false;
                break;
              }
              if (!joined.empty()) joined += ",";
              joined += *s;
            }
            if (ok) value = joined;
          } else {
            value = ScalarToString(node);
          }
          if (!value) {
            status = InvalidArgumentError(fmt::format(
                "config {}: key {} must be a string, number, boolean or list", origin, key));
            return;
          }
          status = Set(key, *value, Source::kFile);
        }
      };
  walk(parsed.table(), "");
  return status;
}

void Config::LoadEnv(const std::function<const char*(const char*)>& getenv) {
  for (const auto& o : options_) {
    if (o.env.empty()) continue;
    const char* v = getenv ? getenv(o.env.c_str()) : std::getenv(o.env.c_str());
    if (v != nullptr) Set(o.key, v, Source::kEnv).IgnoreError();  // the key is known
  }
}

Status Config::SetFlag(std::string_view key, std::string value) {
  return Set(key, std::move(value), Source::kFlag);
}

std::optional<std::string> Config::Get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.source == Source::kUnset) return std::nullopt;
  return it->second.value;
}

Config::Source Config::SourceOf(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? Source::kUnset : it->second.source;
}

std::string_view ConfigSourceName(Config::Source source) {
  switch (source) {
    case Config::Source::kUnset:
      return "unset";
    case Config::Source::kDefault:
      return "default";
    case Config::Source::kFile:
      return "file";
    case Config::Source::kEnv:
      return "env";
    case Config::Source::kFlag:
      return "flag";
  }
  return "unset";
}

}  // namespace rwmeta
