#include "ctl/hummock_commands.h"

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ctl/format.h"
#include "hummock/epoch.h"
#include "hummock/version/version.h"
#include "proto/hummock_service.grpc.pb.h"
#include "rpc/meta_client.h"

namespace rwmeta::ctl {
namespace {

std::string JoinIds(const google::protobuf::RepeatedField<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

std::string JoinTableIds(const google::protobuf::RepeatedField<uint32_t>& ids) {
  std::string out;
  for (uint32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

std::string LevelName(uint32_t level_idx) { return "L" + std::to_string(level_idx); }

struct Totals {
  uint64_t ssts = 0;
  uint64_t bytes = 0;
};

Totals CountSsts(const hummock::HummockVersion& version) {
  Totals totals;
  for (const hummock::CompactionGroup& group : version.groups()) {
    for (const auto* levels : {&group.l0_sub_levels(), &group.levels()}) {
      for (const hummock::Level& level : *levels) {
        for (const hummock::SstableInfo& sst : level.table_infos()) {
          ++totals.ssts;
          totals.bytes += sst.file_size();
        }
      }
    }
  }
  return totals;
}

// One row per SST of `group` in version order (L0 sub-levels newest first, then L1..L6), with the
// group id first if `with_group`.
std::vector<std::vector<std::string>> SstRows(const hummock::CompactionGroup& group,
                                              bool with_group) {
  std::vector<std::vector<std::string>> rows;
  auto add_level = [&](const hummock::Level& level) {
    for (const hummock::SstableInfo& sst : level.table_infos()) {
      std::vector<std::string> row;
      if (with_group) row.push_back(std::to_string(group.group_id()));
      row.insert(row.end(), {LevelName(level.level_idx()),
                             level.level_idx() == 0 ? std::to_string(level.sub_level_id()) : "",
                             std::to_string(sst.object_id()), std::to_string(sst.file_size()),
                             std::to_string(sst.total_key_count()), JoinTableIds(sst.table_ids()),
                             std::to_string(sst.min_epoch()), std::to_string(sst.max_epoch())});
      rows.push_back(std::move(row));
    }
  };
  for (const hummock::Level& level : group.l0_sub_levels()) add_level(level);
  for (const hummock::Level& level : group.levels()) add_level(level);
  return rows;
}

const std::vector<std::string> kSstColumns = {"Level", "Sub-level", "Object ID", "Size (bytes)",
                                              "Keys",  "Table IDs", "Min epoch", "Max epoch"};

using HummockClient = rpc::ServiceClient<hummock::HummockManagerService>;
using Stub = hummock::HummockManagerService::Stub;

Result<hummock::GetCurrentVersionResponse> GetCurrentVersion(const CtlContext& ctx) {
  RWMETA_ASSIGN_OR_RETURN(HummockClient client, ctx.Connect<hummock::HummockManagerService>());
  return client.Call("GetCurrentVersion", &Stub::GetCurrentVersion, {});
}

Status RunListVersion(const CtlContext& ctx, bool verbose) {
  RWMETA_ASSIGN_OR_RETURN(hummock::GetCurrentVersionResponse response, GetCurrentVersion(ctx));
  *ctx.out << RenderVersion(response.current_version(), verbose);
  return Status::Ok();
}

Status RunListSsts(const CtlContext& ctx) {
  RWMETA_ASSIGN_OR_RETURN(hummock::GetCurrentVersionResponse response, GetCurrentVersion(ctx));
  *ctx.out << RenderSsts(response);
  return Status::Ok();
}

Status RunTriggerFullGc(const CtlContext& ctx, int64_t retention_secs) {
  RWMETA_ASSIGN_OR_RETURN(HummockClient client, ctx.Connect<hummock::HummockManagerService>());
  hummock::TriggerFullGcRequest request;
  request.set_sst_retention_time_sec(retention_secs);
  RWMETA_ASSIGN_OR_RETURN(hummock::TriggerFullGcResponse report,
                          client.Call("TriggerFullGc", &Stub::TriggerFullGc, request));
  *ctx.out << RenderFullGc(retention_secs, report);
  return Status::Ok();
}

Status RunTriggerCompaction(const CtlContext& ctx) {
  RWMETA_ASSIGN_OR_RETURN(HummockClient client, ctx.Connect<hummock::HummockManagerService>());
  RWMETA_ASSIGN_OR_RETURN(hummock::TriggerCompactionResponse response,
                          client.Call("TriggerCompaction", &Stub::TriggerCompaction, {}));
  *ctx.out << "Compactions committed: " << response.compactions() << "\n";
  return Status::Ok();
}

}  // namespace

std::string FormatEpoch(uint64_t epoch) {
  if (epoch == 0) return "0";
  return std::to_string(epoch) + " (" + FormatUnixMs(hummock::EpochToUnixMs(epoch)) + ")";
}

std::string RenderVersion(const hummock::HummockVersion& version, bool verbose) {
  const Totals totals = CountSsts(version);
  std::string out = FormatAligned({
      {"Version ID:", std::to_string(version.id())},
      {"Max committed epoch:", FormatEpoch(version.max_committed_epoch())},
      {"Safe epoch:", FormatEpoch(version.safe_epoch())},
      {"SSTs:", std::to_string(totals.ssts) + " (" + std::to_string(totals.bytes) + " bytes)"},
  });
  for (const hummock::CompactionGroup& group : version.groups()) {
    out += "\nCompaction group " + std::to_string(group.group_id()) + ":\n";
    std::vector<std::vector<std::string>> rows;
    auto add_level = [&rows](const hummock::Level& level) {
      uint64_t bytes = 0;
      for (const hummock::SstableInfo& sst : level.table_infos()) bytes += sst.file_size();
      rows.push_back({LevelName(level.level_idx()),
                      level.level_idx() == 0 ? std::to_string(level.sub_level_id()) : "",
                      std::to_string(level.table_infos_size()), std::to_string(bytes)});
    };
    for (const hummock::Level& level : group.l0_sub_levels()) add_level(level);
    for (const hummock::Level& level : group.levels()) add_level(level);
    out += FormatTable({"Level", "Sub-level", "SSTs", "Size (bytes)"}, rows);
    if (verbose) {
      std::vector<std::vector<std::string>> ssts = SstRows(group, /*with_group=*/false);
      out += "\nSSTs of compaction group " + std::to_string(group.group_id()) + ":\n";
      out += ssts.empty() ? std::string("none\n") : FormatTable(kSstColumns, ssts);
    }
  }
  // protobuf maps have no order: sort by table id.
  std::map<uint32_t, hummock::StateTableInfo> tables(version.state_table_info().begin(),
                                                     version.state_table_info().end());
  if (tables.empty()) {
    out += "\nTables: none\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [table_id, info] : tables) {
      rows.push_back({std::to_string(table_id), std::to_string(info.compaction_group_id()),
                      FormatEpoch(hummock::CommittedEpoch(version, info))});
    }
    out += "\nTables:\n" + FormatTable({"Table ID", "Compaction group", "Committed epoch"}, rows);
  }
  return out;
}

std::string RenderSsts(const hummock::GetCurrentVersionResponse& response) {
  const hummock::HummockVersion& version = response.current_version();
  const Totals totals = CountSsts(version);
  std::string out = "Version " + std::to_string(version.id()) + ": " + std::to_string(totals.ssts) +
                    " SSTs, " + std::to_string(totals.bytes) + " bytes\n";
  std::vector<std::vector<std::string>> rows;
  for (const hummock::CompactionGroup& group : version.groups()) {
    for (auto& row : SstRows(group, /*with_group=*/true)) rows.push_back(std::move(row));
  }
  if (!rows.empty()) {
    std::vector<std::string> header = {"Group"};
    header.insert(header.end(), kSstColumns.begin(), kSstColumns.end());
    out += FormatTable(header, rows);
  }
  if (response.stale_object_ids().empty()) {
    out += "Stale objects waiting for vacuum: none\n";
  } else {
    out += "Stale objects waiting for vacuum (" + std::to_string(response.stale_object_ids_size()) +
           "): " + JoinIds(response.stale_object_ids()) + "\n";
  }
  return out;
}

std::string RenderFullGc(int64_t retention_secs, const hummock::TriggerFullGcResponse& report) {
  std::string out = "Full GC with retention " + std::to_string(retention_secs) + " s: listed " +
                    std::to_string(report.listed_sst_count()) + " SST objects (" +
                    std::to_string(report.ignored_key_count()) + " other keys left alone)\n";
  out += "Deleted " + std::to_string(report.deleted_object_ids_size()) + " objects, " +
         std::to_string(report.deleted_bytes()) + " bytes";
  if (!report.deleted_object_ids().empty()) out += ": " + JoinIds(report.deleted_object_ids());
  out += "\nKept " + std::to_string(report.kept_referenced_object_ids_size()) + " referenced";
  if (!report.kept_referenced_object_ids().empty()) {
    out += ": " + JoinIds(report.kept_referenced_object_ids());
  }
  out += "\nKept " + std::to_string(report.kept_too_young_object_ids_size()) + " too young";
  if (!report.kept_too_young_object_ids().empty()) {
    out += ": " + JoinIds(report.kept_too_young_object_ids());
  }
  return out + "\n";
}

CLI::App* AddHummockCommands(CLI::App& root, CtlContext& ctx, CommandAction* action) {
  CLI::App* hummock = root.add_subcommand(
      "hummock",
      "Commands for the Hummock state store: inspect the version and its SSTs, run compaction "
      "and full GC");
  hummock->require_subcommand(1);

  CLI::App* list_version = hummock->add_subcommand(
      "list-version",
      "Print the current Hummock version: id, max committed and safe epoch, each level of each "
      "compaction group (L0 sub-levels newest first, L1..L6) with its SST count and bytes, and "
      "every table's committed epoch");
  auto verbose = std::make_shared<bool>(false);
  list_version->add_flag("-v,--verbose", *verbose, "Also list every SST of every level");
  list_version->callback([&ctx, action, verbose] {
    *action = [&ctx, verbose] { return RunListVersion(ctx, *verbose); };
  });

  CLI::App* list_ssts = hummock->add_subcommand(
      "list-ssts",
      "Print one line per SST of the current version (compaction group, level, object id, size, "
      "keys, table ids, epoch range), then the stale objects waiting for vacuum");
  list_ssts->alias("list-sst-info");
  list_ssts->callback([&ctx, action] { *action = [&ctx] { return RunListSsts(ctx); }; });

  CLI::App* full_gc = hummock->add_subcommand(
      "trigger-full-gc",
      "Run a compaction and vacuum round, then a full GC pass: delete every SST object in the "
      "state store older than the retention that no version, reader or meta snapshot "
      "references. Returns when the pass is done and prints what it deleted and kept.");
  auto retention = std::make_shared<int64_t>(0);
  full_gc
      ->add_option("-s,--sst-retention-time-sec", *retention,
                   "Only objects older than this many seconds are deleted (0: any age)")
      ->required()
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max() / 1000));
  full_gc->callback([&ctx, action, retention] {
    *action = [&ctx, retention] { return RunTriggerFullGc(ctx, *retention); };
  });

  CLI::App* compaction = hummock->add_subcommand(
      "trigger-compaction",
      "Run one compaction and vacuum round now (the meta node also runs one every second) and "
      "print how many compactions it committed");
  compaction->callback([&ctx, action] { *action = [&ctx] { return RunTriggerCompaction(ctx); }; });
  return hummock;
}

}  // namespace rwmeta::ctl
