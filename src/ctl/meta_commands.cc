#include "ctl/meta_commands.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "ctl/format.h"
#include "rpc/meta_backend.h"

namespace rwmeta::ctl {
namespace {

Status RunClusterInfo(const CtlContext& ctx) {
  RWMETA_ASSIGN_OR_RETURN(auto client, ctx.ConnectMeta());
  RWMETA_ASSIGN_OR_RETURN(rpc::ClusterInfo info, client->GetClusterInfo());
  std::vector<std::vector<std::string>> rows = {
      {"Cluster ID:", info.cluster_id},
      {"Created at:", FormatUnixMs(info.created_at_ms)},
      {"Generation:",
       info.restored_snapshot_id == 0
           ? std::to_string(info.generation)
           : fmt::format("{} (restored from meta snapshot {} at {})", info.generation,
                         info.restored_snapshot_id, FormatUnixMs(info.generation_started_at_ms))},
      {"rwmeta version:", info.rwmeta_version},
      {"Meta store:", info.meta_store_backend + " " + info.meta_store_url},
      {"State store:", info.state_store_url},
  };
  for (const rpc::ListenAddress& addr : info.listen_addresses) {
    rows.push_back({"Listening (" + addr.protocol + "):", addr.address});
  }
  rows.push_back({"Uptime:", FormatDurationMs(info.uptime_ms)});
  *ctx.out << FormatAligned(rows);
  return Status::Ok();
}

Status RunSystemParamsGet(const CtlContext& ctx, const std::string& name) {
  RWMETA_ASSIGN_OR_RETURN(auto client, ctx.ConnectMeta());
  RWMETA_ASSIGN_OR_RETURN(std::vector<rpc::ParamInfo> params, client->GetSystemParams());
  if (!name.empty()) {
    for (const rpc::ParamInfo& param : params) {
      if (param.name == name) {
        *ctx.out << param.value << "\n";
        return Status::Ok();
      }
    }
    // The same code and wording the meta node uses for `set` of an unknown name.
    return InvalidArgumentError("unknown parameter " + name);
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(params.size());
  for (const rpc::ParamInfo& param : params) {
    rows.push_back(
        {param.name, param.value, param.is_mutable ? "true" : "false", param.description});
  }
  *ctx.out << FormatTable({"Name", "Value", "Mutable", "Description"}, rows);
  return Status::Ok();
}

Status RunSystemParamsSet(const CtlContext& ctx, const std::string& name,
                          const std::string& value) {
  RWMETA_ASSIGN_OR_RETURN(auto client, ctx.ConnectMeta());
  RWMETA_ASSIGN_OR_RETURN(rpc::SetParamResult result, client->SetSystemParam(name, value));
  if (!result.notice.empty()) *ctx.err << "notice: " << result.notice << "\n";
  *ctx.out << result.param.name << " = " << result.param.value << "\n";
  return Status::Ok();
}

void AddSystemParamsCommands(CLI::App& meta, CtlContext& ctx, CommandAction* action) {
  CLI::App* group =
      meta.add_subcommand("system-params",
                          "Show or change the cluster's system parameters (as SHOW PARAMETERS and "
                          "ALTER SYSTEM SET do in SQL)");
  group->require_subcommand(1);

  CLI::App* get = group->add_subcommand(
      "get",
      "Print every system parameter as a table (Name, Value, Mutable, Description), or "
      "only the value of NAME. Values holding credentials are redacted.");
  auto name = std::make_shared<std::string>();
  get->add_option("NAME", *name, "Parameter to print, e.g. backup_storage_url");
  get->callback(
      [&ctx, action, name] { *action = [&ctx, name] { return RunSystemParamsGet(ctx, *name); }; });

  CLI::App* set = group->add_subcommand(
      "set",
      "Set the mutable system parameter NAME to VALUE and print its new value. Immutable "
      "parameters (state_store, data_directory) are refused.");
  auto set_name = std::make_shared<std::string>();
  auto set_value = std::make_shared<std::string>();
  set->add_option("NAME", *set_name, "Parameter to change, e.g. backup_storage_directory")
      ->required();
  set->add_option("VALUE", *set_value,
                  "New value as text, parsed by the parameter's type (put `--` before a value "
                  "that starts with '-')")
      ->required();
  set->callback([&ctx, action, set_name, set_value] {
    *action = [&ctx, set_name, set_value] {
      return RunSystemParamsSet(ctx, *set_name, *set_value);
    };
  });
}

}  // namespace

CLI::App* AddMetaCommands(CLI::App& root, CtlContext& ctx, CommandAction* action) {
  CLI::App* meta = root.add_subcommand("meta",
                                       "Commands for the meta node: cluster information, "
                                       "system parameters and meta snapshots");
  meta->require_subcommand(1);

  CLI::App* cluster_info = meta->add_subcommand(
      "cluster-info",
      "Print the cluster's id and creation time, the meta node's version, listen "
      "addresses and uptime, and where it keeps its meta store and state store "
      "(credentials redacted)");
  cluster_info->callback([&ctx, action] { *action = [&ctx] { return RunClusterInfo(ctx); }; });

  AddSystemParamsCommands(*meta, ctx, action);
  return meta;
}

}  // namespace rwmeta::ctl
