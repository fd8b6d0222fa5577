// Layered configuration: built-in defaults < TOML file < environment variables < command-line
// flags.
//
// Each option has a dotted key ("meta.listen_addr") that is also its place in the TOML file
// ([meta] listen_addr = "..."), an environment variable (RW_LISTEN_ADDR) and a flag
// (--listen-addr). Values are kept as strings; the program converts them where it uses them, so
// every layer accepts the same spelling. Unknown keys in the file are an error, not silently
// ignored: a typo in a config file of a database must not go unnoticed.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rwmeta {

class Config {
 public:
  struct Option {
    std::string key;   // "meta.listen_addr"
    std::string flag;  // "--listen-addr" ("" if none)
    std::string env;   // "RW_LISTEN_ADDR" ("" if none)
    std::optional<std::string> default_value;
    std::string help;
  };

  enum class Source { kUnset, kDefault, kFile, kEnv, kFlag };

  explicit Config(std::vector<Option> options);

  const std::vector<Option>& options() const { return options_; }

  // Reads a TOML file. NotFound if it does not exist; InvalidArgument naming the line for a
  // syntax error, and naming the key for an unknown key or a value that is a table or an array
  // (arrays of strings are joined with ','). Values from the file replace defaults only.
  Status LoadTomlFile(const std::string& path);
  // The same, from text (`origin` names it in errors).
  Status LoadTomlText(std::string_view text, std::string_view origin);

  // Reads every option's environment variable through `getenv` (std::getenv by default).
  void LoadEnv(const std::function<const char*(const char*)>& getenv = nullptr);

  // Sets a value from a flag. InvalidArgument for an unknown key.
  Status SetFlag(std::string_view key, std::string value);

  // The value, or nullopt if no layer set it and there is no default.
  std::optional<std::string> Get(std::string_view key) const;
  // Which layer the value came from.
  Source SourceOf(std::string_view key) const;

 private:
  struct Entry {
    std::string value;
    Source source = Source::kUnset;
  };
  Status Set(std::string_view key, std::string value, Source source);
  const Option* Find(std::string_view key) const;

  std::vector<Option> options_;
  std::map<std::string, Entry, std::less<>> values_;
};

std::string_view ConfigSourceName(Config::Source source);

}  // namespace rwmeta
