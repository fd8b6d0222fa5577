#include "hummock/cluster/generation.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace rwmeta::hummock {

namespace {

// A record written before started_at_ms existed holds 0.
std::string FormatUtc(int64_t unix_ms) {
  return unix_ms <= 0 ? "an unknown time" : FormatUnixMsUtc(unix_ms, kUtcIso8601Format);
}

// Reads the object's etag first and its body second: a change in between makes a later
// compare-and-swap on that etag fail rather than succeed on a stale body.
Result<StoredGeneration> ReadWithEtag(objstore::ObjectStore& store, const std::string& key) {
  RWMETA_ASSIGN_OR_RETURN(objstore::ObjectMeta meta, store.Head(key));
  RWMETA_ASSIGN_OR_RETURN(std::string body, store.Get(key));
  RWMETA_ASSIGN_OR_RETURN(GenerationRecord record, DecodeGeneration(body, key));
  return StoredGeneration{std::move(record), meta.etag};
}

}  // namespace

uint64_t ClusterRowGeneration(const metastore::Row& cluster_row) {
  const int column = metastore::Model::Get().Table("cluster").ColumnIndex("generation");
  const auto* generation = column >= 0 && static_cast<size_t>(column) < cluster_row.size()
                               ? std::get_if<int64_t>(&cluster_row[column])
                               : nullptr;
  return generation != nullptr ? static_cast<uint64_t>(*generation) : kFirstGeneration;
}

std::string EncodeGeneration(const GenerationRecord& record) {
  nlohmann::json j;
  j["generation"] = record.generation;
  j["cluster_id"] = record.cluster_id;
  j["snapshot_id"] = record.snapshot_id;
  j["started_at_ms"] = record.started_at_ms;
  return j.dump() + "\n";
}

Result<GenerationRecord> DecodeGeneration(std::string_view bytes, std::string_view object_name) {
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](std::string_view why) {
    return DataLossError(fmt::format("generation object {} {}", object_name, why));
  };
  if (!j.is_object()) return bad("is not a JSON object");
  if (!j.contains("generation") || !j["generation"].is_number_unsigned() ||
      j["generation"].get<uint64_t>() < kFirstGeneration) {
    return bad("has no generation number of 1 or more");
  }
  GenerationRecord record;
  record.generation = j["generation"].get<uint64_t>();
  if (j.contains("cluster_id") && j["cluster_id"].is_string()) {
    record.cluster_id = j["cluster_id"].get<std::string>();
  }
  if (j.contains("snapshot_id") && j["snapshot_id"].is_number_unsigned()) {
    record.snapshot_id = j["snapshot_id"].get<uint64_t>();
  }
  if (j.contains("started_at_ms") && j["started_at_ms"].is_number_integer()) {
    record.started_at_ms = j["started_at_ms"].get<int64_t>();
  }
  return record;
}

std::string DescribeGeneration(const GenerationRecord& record) {
  if (record.snapshot_id == 0) {
    return fmt::format("generation {} (the first start at {})", record.generation,
                       FormatUtc(record.started_at_ms));
  }
  return fmt::format("generation {} (the restore of meta snapshot {} at {})", record.generation,
                     record.snapshot_id, FormatUtc(record.started_at_ms));
}

Result<StoredGeneration> ReadGeneration(objstore::ObjectStore& store,
                                        std::string_view data_directory) {
  return ReadWithEtag(store, GenerationKey(data_directory));
}

Result<GenerationRecord> RaiseGeneration(objstore::ObjectStore& store,
                                         std::string_view data_directory,
                                         const std::string& cluster_id, uint64_t snapshot_id,
                                         Clock& clock) {
  const std::string key = GenerationKey(data_directory);
  auto current = ReadWithEtag(store, key);
  if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
    return current.status().WithContext("reading " + key);
  }
  if (current.ok() && !current->record.cluster_id.empty() &&
      current->record.cluster_id != cluster_id) {
    return FailedPreconditionError(
        fmt::format("state store {}: {} belongs to cluster {}, the snapshot to cluster {}",
                    store.DisplayUrl(), key, current->record.cluster_id, cluster_id));
  }
  GenerationRecord next;
  next.generation = (current.ok() ? current->record.generation : kFirstGeneration) + 1;
  next.cluster_id = cluster_id;
  next.snapshot_id = snapshot_id;
  next.started_at_ms = clock.NowMs();
  objstore::PutOptions put;
  if (store.SupportsConditionalPut()) {
    if (current.ok()) {
      put.if_match_etag = current->etag;
    } else {
      put.if_none_match = true;
    }
  } else {
    spdlog::warn(
        "state store {} does not honour conditional puts: the generation is raised with a plain "
        "put, so two restores running at the same time onto it are not told apart",
        store.DisplayUrl());
  }
  Status written = store.Put(key, EncodeGeneration(next), put);
  if (IsAborted(written)) {
    return AbortedError(fmt::format(
        "state store {}: another restore raised the cluster generation in {} at the same time "
        "(this one wanted generation {}): only one restore of a state store can win; nothing was "
        "written to the target",
        store.DisplayUrl(), key, next.generation));
  }
  if (!written.ok()) return written.WithContext("writing " + key);
  return next;
}

std::string SupersededMessage(uint64_t mine, const GenerationRecord& current,
                              const std::string& meta_store_display,
                              const std::string& state_store_display) {
  return fmt::format(
      "meta store {} holds generation {} of cluster {}, but state store {} is at {}: this meta "
      "store was superseded by that restore and must never write to the state store again; start "
      "the meta node on the restored meta store instead",
      meta_store_display, mine, current.cluster_id, state_store_display,
      DescribeGeneration(current));
}

Result<GenerationRecord> CheckGeneration(objstore::ObjectStore& store,
                                         std::string_view data_directory,
                                         const std::string& cluster_id,
                                         uint64_t meta_store_generation,
                                         const std::string& meta_store_display,
                                         const std::string& state_store_display, Clock& clock) {
  const std::string key = GenerationKey(data_directory);
  for (int attempt = 0;; ++attempt) {
    auto current = ReadWithEtag(store, key);
    if (current.ok()) {
      const GenerationRecord& record = current->record;
      if (record.generation == meta_store_generation) return record;
      if (record.generation > meta_store_generation) {
        return FailedPreconditionError(SupersededMessage(meta_store_generation, record,
                                                         meta_store_display, state_store_display));
      }
      return FailedPreconditionError(fmt::format(
          "meta store {} holds generation {} of cluster {}, but state store {} says {}: the "
          "state store's {} was rolled back or replaced; if no older meta store can ever start "
          "on this state store, delete {} and start again",
          meta_store_display, meta_store_generation, cluster_id, state_store_display,
          DescribeGeneration(record), key, key));
    }
    if (current.status().code() != StatusCode::kNotFound) {
      return current.status().WithContext("state store " + state_store_display + ": reading " +
                                          key);
    }
    if (meta_store_generation != kFirstGeneration) {
      spdlog::warn(
          "state store {} has no {} although meta store {} is at generation {}: writing it again",
          state_store_display, key, meta_store_display, meta_store_generation);
    }
    GenerationRecord record;
    record.generation = meta_store_generation;
    record.cluster_id = cluster_id;
    record.started_at_ms = clock.NowMs();
    objstore::PutOptions put;
    put.if_none_match = store.SupportsConditionalPut();
    Status written = store.Put(key, EncodeGeneration(record), put);
    if (written.ok()) return record;
    // A restore raised it between our read and our write: read what it wrote.
    if (!IsAborted(written) || attempt > 0) {
      return written.WithContext("state store " + state_store_display + ": writing " + key);
    }
  }
}

}  // namespace rwmeta::hummock
