#include "meta/system_params.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/url.h"
#include "metastore/system_param_names.h"

namespace rwmeta::meta {

namespace params = metastore::params;

namespace {

using metastore::Model;
using metastore::Row;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status BadValue(const ParamDef& def, std::string_view value) {
  return InvalidArgumentError(fmt::format("invalid value for parameter \"{}\": \"{}\" is not a {}",
                                          def.name, value, ParamTypeName(def.type)))
      .WithSqlState("22023");
}

// Parses a non-negative decimal integer up to `max`; nullopt on anything else.
std::optional<uint64_t> ParseUnsigned(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (max - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

// A parameter this build knows, with a default, has no row when the store was written by an
// earlier rwmeta (or restored from its snapshot): it has its default.
void FillDefaults(ParamValues& values) {
  for (const auto& def : AllParamDefs()) {
    if (def.default_value && !values.contains(def.name)) {
      values.emplace(std::string(def.name), std::string(*def.default_value));
    }
  }
}

}  // namespace

std::string_view ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kU32:
      return "u32";
    case ParamType::kU64:
      return "u64";
    case ParamType::kBool:
      return "bool";
    case ParamType::kF64:
      return "f64";
    case ParamType::kString:
      return "string";
  }
  return "unknown";
}

const std::vector<ParamDef>& AllParamDefs() {
  // Names, defaults and descriptions follow RisingWave's for_all_params!; names reach the meta
  // store and snapshots: never rename.
  static const std::vector<ParamDef>* const kDefs = new std::vector<ParamDef>{
      {params::kBarrierIntervalMs, ParamType::kU32, "1000", true,
       "The interval of periodic barrier."},
      {params::kCheckpointFrequency, ParamType::kU64, "1", true,
       "There will be a checkpoint for every n barriers."},
      {params::kSstableSizeMb, ParamType::kU32, "256", false, "Target size of the Sstable."},
      {params::kParallelCompactSizeMb, ParamType::kU32, "512", false,
       "The size of parallel task for one compact/flush job."},
      {params::kBlockSizeKb, ParamType::kU32, "64", false, "Size of each block in bytes in SST."},
      {params::kBloomFalsePositive, ParamType::kF64, "0.001", false,
       "False positive probability of bloom filter."},
      {params::kStateStore, ParamType::kString, std::nullopt, false, "URL for the state store",
       /*is_url=*/true},
      {params::kDataDirectory, ParamType::kString, std::nullopt, false,
       "Remote directory for storing data and metadata objects."},
      {params::kBackupStorageUrl, ParamType::kString, std::nullopt, true,
       "Remote storage url for storing snapshots.", /*is_url=*/true},
      {params::kBackupStorageDirectory, ParamType::kString, std::nullopt, true,
       "Remote directory for storing snapshots."},
      {params::kMaxConcurrentCreatingStreamingJobs, ParamType::kU32, "1", true,
       "Max number of concurrent creating streaming jobs."},
      {params::kPauseOnNextBootstrap, ParamType::kBool, "false", true,
       "Whether to pause all data sources on next bootstrap."},
      {params::kEnableTracing, ParamType::kBool, "false", true,
       "Whether to enable distributed tracing."},
      {params::kTimeTravelRetentionMs, ParamType::kU64, "600000", true,
       "The data retention period for time travel."},
      {params::kLicenseKey, ParamType::kString, "", true,
       "The license key to activate enterprise features."},
      // rwmeta's own (RisingWave has no schedule in its kernel).
      {params::kBackupScheduleIntervalSec, ParamType::kU64, "1800", true,
       "Seconds between scheduled meta snapshots, counted from the newest snapshot of the backup "
       "location; 0 turns the schedule off."},
      {params::kBackupRetentionCount, ParamType::kU32, "3", true,
       "Scheduled meta snapshots kept; older ones are deleted (0: no count limit). On-demand "
       "snapshots are never deleted by retention."},
      {params::kBackupRetentionSec, ParamType::kU64, "0", true,
       "Scheduled meta snapshots older than this many seconds are deleted (0: no age limit)."},
  };
  return *kDefs;
}

const ParamDef* FindParamDef(std::string_view name) {
  for (const auto& def : AllParamDefs()) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

Result<std::string> NormalizeParamValue(const ParamDef& def, std::string_view value) {
  std::string_view trimmed = Trim(value);
  switch (def.type) {
    case ParamType::kU32: {
      auto v = ParseUnsigned(trimmed, std::numeric_limits<uint32_t>::max());
      if (!v) return BadValue(def, value);
      return std::to_string(*v);
    }
    case ParamType::kU64: {
      auto v = ParseUnsigned(trimmed, std::numeric_limits<uint64_t>::max());
      if (!v) return BadValue(def, value);
      return std::to_string(*v);
    }
    case ParamType::kBool: {
      std::string lower;
      for (char c : trimmed)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true" || lower == "on" || lower == "t" || lower == "1")
        return std::string("true");
      if (lower == "false" || lower == "off" || lower == "f" || lower == "0") {
        return std::string("false");
      }
      return BadValue(def, value);
    }
    case ParamType::kF64: {
      std::string text(trimmed);
      if (text.empty()) return BadValue(def, value);
      char* end = nullptr;
      errno = 0;
      double d = std::strtod(text.c_str(), &end);
      if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(d)) {
        return BadValue(def, value);
      }
      return fmt::format("{}", d);
    }
    case ParamType::kString:
      if ((def.name == params::kBackupStorageUrl || def.name == params::kBackupStorageDirectory) &&
          trimmed.empty()) {
        return InvalidArgumentError(fmt::format("{} cannot be empty", def.name))
            .WithSqlState("22023");
      }
      return std::string(value);
  }
  return InternalError("unknown parameter type");
}

std::string DisplayParamValue(const ParamDef& def, const std::string& raw_value) {
  return def.is_url ? RedactUrl(raw_value) : raw_value;
}

Result<ParamValues> InitialParamValues(std::string_view state_store,
                                       std::string_view data_directory,
                                       const std::optional<std::string>& backup_storage_url,
                                       const std::optional<std::string>& backup_storage_directory) {
  if (Trim(state_store).empty()) return InvalidArgumentError("state_store cannot be empty");
  if (Trim(data_directory).empty()) return InvalidArgumentError("data_directory cannot be empty");
  ParamValues values;
  for (const auto& def : AllParamDefs()) {
    if (def.default_value) values[std::string(def.name)] = std::string(*def.default_value);
  }
  values[params::kStateStore] = std::string(state_store);
  values[params::kDataDirectory] = std::string(data_directory);

  std::string url;
  if (backup_storage_url) {
    url = *backup_storage_url;
  } else {
    // As RisingWave: the state store itself, or "memory" when it is not a hummock+ URL.
    auto stripped = StripHummockPrefix(state_store);
    url = stripped.ok() ? *stripped : std::string("memory");
  }
  std::string dir = backup_storage_directory ? *backup_storage_directory
                                             : fmt::format("{}/backup", data_directory);
  RWMETA_ASSIGN_OR_RETURN(values[params::kBackupStorageUrl],
                          NormalizeParamValue(*FindParamDef(params::kBackupStorageUrl), url));
  RWMETA_ASSIGN_OR_RETURN(values[params::kBackupStorageDirectory],
                          NormalizeParamValue(*FindParamDef(params::kBackupStorageDirectory), dir));
  return values;
}

Status WriteParamRows(metastore::Transaction& txn, const ParamValues& values) {
  const auto& table = Model::Get().Table("system_parameter");
  for (const auto& [name, value] : values) {
    const ParamDef* def = FindParamDef(name);
    Row row{name, value, def ? def->is_mutable : true,
            def ? metastore::Value(std::string(def->description)) : metastore::Value()};
    RWMETA_RETURN_IF_ERROR(txn.Upsert(table, row));
  }
  return Status::Ok();
}

Result<ParamValues> ReadParamRows(metastore::ReadView& view) {
  ParamValues values;
  const auto& table = Model::Get().Table("system_parameter");
  RWMETA_RETURN_IF_ERROR(view.Scan(table, [&](const Row& row) {
    values[std::get<std::string>(row[0])] = std::get<std::string>(row[1]);
    return Status::Ok();
  }));
  return values;
}

Status SystemParamsManager::Reload() {
  RWMETA_ASSIGN_OR_RETURN(auto view, store_.BeginSnapshotRead());
  RWMETA_ASSIGN_OR_RETURN(ParamValues values, ReadParamRows(*view));
  FillDefaults(values);
  std::lock_guard<std::mutex> lock(mu_);
  values_ = std::move(values);
  return Status::Ok();
}

ParamValues SystemParamsManager::Values() const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_;
}

Result<std::string> SystemParamsManager::Get(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(name);
  if (it == values_.end()) {
    return NotFoundError(fmt::format("unrecognized configuration parameter \"{}\"", name))
        .WithSqlState("42704");
  }
  return it->second;
}

std::vector<ParamDisplayRow> SystemParamsManager::Display() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ParamDisplayRow> rows;
  for (const auto& def : AllParamDefs()) {
    auto it = values_.find(def.name);
    std::string value = it == values_.end() ? "" : DisplayParamValue(def, it->second);
    rows.push_back(
        {std::string(def.name), std::move(value), std::string(def.description), def.is_mutable});
  }
  return rows;
}

Result<bool> SystemParamsManager::Set(std::string_view name,
                                      const std::optional<std::string>& value,
                                      std::vector<std::string>* notices) {
  const ParamDef* def = FindParamDef(name);
  if (def == nullptr) {
    return InvalidArgumentError(fmt::format("unrecognized configuration parameter \"{}\"", name))
        .WithSqlState("42704");
  }
  if (!def->is_mutable) {
    return FailedPreconditionError(
               fmt::format("cannot change immutable parameter \"{}\"", def->name))
        .WithSqlState("55P02");
  }
  std::string normalized;
  if (value) {
    RWMETA_ASSIGN_OR_RETURN(normalized, NormalizeParamValue(*def, *value));
  } else {
    if (!def->default_value) {
      return InvalidArgumentError(
                 fmt::format("parameter \"{}\" does not have a default value", def->name))
          .WithSqlState("22023");
    }
    normalized = std::string(*def->default_value);
  }

  ParamValues before;
  ParamValues after;
  bool changed = false;
  {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    // Read-modify-write inside the transaction: another meta process may have changed a value.
    RWMETA_RETURN_IF_ERROR(metastore::RunTransaction(store_, [&](metastore::Transaction& txn) {
      RWMETA_ASSIGN_OR_RETURN(before, ReadParamRows(txn));
      FillDefaults(before);
      after = before;
      auto it = before.find(def->name);
      changed = it == before.end() || it->second != normalized;
      if (!changed) return Status::Ok();
      after[std::string(def->name)] = normalized;
      ParamValues one{{std::string(def->name), normalized}};
      return WriteParamRows(txn, one);
    }));
    std::lock_guard<std::mutex> lock(mu_);
    values_ = after;
  }
  // Listeners run outside the locks, so they may read Values() or Get().
  if (changed) {
    std::vector<std::string> ignored;
    for (auto* listener : listeners_) {
      listener->OnParamChanged(std::string(def->name), before, after,
                               notices != nullptr ? notices : &ignored);
    }
  }
  return changed;
}

void SystemParamsManager::AddListener(ParamChangeListener* listener) {
  listeners_.push_back(listener);
}

void SystemParamsManager::RemoveListener(ParamChangeListener* listener) {
  std::erase(listeners_, listener);
}

}  // namespace rwmeta::meta
