// System parameters: the cluster-wide settings shown by SHOW PARAMETERS and changed with ALTER
// SYSTEM, following RisingWave's table (src/common/src/system_param/mod.rs). They are persisted as
// rows of the model table `system_parameter` ({name, value, is_mutable, description}), `value`
// being the raw text (credentials included); SHOW PARAMETERS displays URL-valued parameters through
// RedactUrl.
//
// SQLSTATEs carried by the errors of this file (for the pgwire ErrorResponse):
//   42704  unknown parameter                       (InvalidArgument)
//   55P02  the parameter is immutable              (FailedPrecondition)
//   22023  the value does not fit the type, empty  (InvalidArgument)
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metastore/meta_store.h"

namespace rwmeta::meta {

enum class ParamType { kU32, kU64, kBool, kF64, kString };

// "u32", "u64", "bool", "f64", "string".
std::string_view ParamTypeName(ParamType type);

struct ParamDef {
  std::string_view name;
  ParamType type;
  // nullopt: no built-in default (TO DEFAULT is refused; bootstrap derives the value).
  std::optional<std::string_view> default_value;
  bool is_mutable;
  std::string_view description;
  // True for values that may hold credentials: displayed through RedactUrl.
  bool is_url = false;
};

// Every parameter, in display order.
const std::vector<ParamDef>& AllParamDefs();
// nullptr if there is no parameter named `name`.
const ParamDef* FindParamDef(std::string_view name);

// Parameter name → raw value.
using ParamValues = std::map<std::string, std::string, std::less<>>;

// Checks `value` against `def` and returns its canonical text ("true"/"false" for booleans, the
// decimal for numbers, the string itself otherwise). InvalidArgument 22023 naming the expected
// type, or for an empty (after trimming) backup_storage_url / backup_storage_directory.
Result<std::string> NormalizeParamValue(const ParamDef& def, std::string_view value);

// The value as SHOW PARAMETERS prints it: URL parameters redacted, others unchanged.
std::string DisplayParamValue(const ParamDef& def, const std::string& raw_value);

// The values a new cluster starts with: each parameter's default, `state_store` and
// `data_directory` as given, backup_storage_url = state store without `hummock+` (or "memory" when
// there is no such prefix) and backup_storage_directory = `<data_directory>/backup` unless
// overridden. InvalidArgument if state_store or data_directory is empty or an override fails
// validation.
Result<ParamValues> InitialParamValues(std::string_view state_store,
                                       std::string_view data_directory,
                                       const std::optional<std::string>& backup_storage_url,
                                       const std::optional<std::string>& backup_storage_directory);

// Writes `values` as system_parameter rows (insert or replace) within `txn`.
Status WriteParamRows(metastore::Transaction& txn, const ParamValues& values);
// Reads every system_parameter row. Unknown names (from a newer binary) are kept.
Result<ParamValues> ReadParamRows(metastore::ReadView& view);

// Told after a change is committed. Called on the thread that made the change, outside any lock of
// the manager; must not call SystemParamsManager::Set. A listener may append notices for whoever
// made the change (ALTER SYSTEM shows them as NOTICEs) to `notices`, which is never null.
class ParamChangeListener {
 public:
  virtual ~ParamChangeListener() = default;
  virtual void OnParamChanged(const std::string& name, const ParamValues& old_values,
                              const ParamValues& new_values, std::vector<std::string>* notices) = 0;
};

// One row of SHOW PARAMETERS.
struct ParamDisplayRow {
  std::string name;
  std::string value;  // redacted where the parameter is a URL
  std::string description;
  bool is_mutable;
};

// The live parameters of the cluster, cached from the meta store.
//
// Concurrency:
//   Values, Get, Display          any thread; read the cache under a mutex
//   Set, Reload                   any thread; writes are serialized by a writer mutex
//   AddListener                   before concurrent use
class SystemParamsManager {
 public:
  // REQUIRES: `store` outlives the manager.
  explicit SystemParamsManager(metastore::MetaStore& store) : store_(store) {}

  // Loads the rows from the store. A parameter with a default and no row (a store written by an
  // earlier rwmeta, or restored from one of its snapshots) has its default. Errors of the store
  // pass through.
  Status Reload();

  ParamValues Values() const;
  // NotFound (42704) for an unknown parameter or one with no stored value.
  Result<std::string> Get(std::string_view name) const;
  // Every known parameter, in AllParamDefs order, with display values.
  std::vector<ParamDisplayRow> Display() const;

  // Sets `name` to `value` (nullopt: its default) and persists it. Returns true if the stored value
  // changed (an unchanged value is a no-op and notifies nobody). Errors: InvalidArgument 42704
  // unknown parameter; FailedPrecondition 55P02 immutable; InvalidArgument 22023 bad value or
  // `TO DEFAULT` for a parameter without a default; store errors pass through. Notices of the
  // listeners are appended to `notices` if it is not null.
  Result<bool> Set(std::string_view name, const std::optional<std::string>& value,
                   std::vector<std::string>* notices = nullptr);

  // REQUIRES: `listener` outlives the manager or is removed first.
  void AddListener(ParamChangeListener* listener);
  // REQUIRES: no Set runs concurrently.
  void RemoveListener(ParamChangeListener* listener);

 private:
  metastore::MetaStore& store_;
  std::mutex write_mu_;
  mutable std::mutex mu_;
  ParamValues values_;
  std::vector<ParamChangeListener*> listeners_;
};

}  // namespace rwmeta::meta
