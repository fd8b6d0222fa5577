#include "restore/target_url.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "common/url.h"

namespace rwmeta::restore {

namespace {

bool IsInMemorySqlite(std::string_view url) {
  return url.find(":memory:") != std::string_view::npos ||
         url.find("mode=memory") != std::string_view::npos;
}

}  // namespace

Result<std::string> MetaStoreUrl(const MetaStoreFlags& f) {
  const std::string& type = f.type;
  const bool sql_kind = type == "sql" || type == "sqlite" || type == "postgres" || type == "mysql";
  if (!sql_kind && type != "etcd") {
    return InvalidArgumentError(
        fmt::format("--meta-store-type {} is not one of sql, sqlite, postgres, mysql, etcd", type));
  }
  if (sql_kind && (!f.etcd_endpoints.empty() || f.etcd_auth || !f.etcd_username.empty())) {
    return InvalidArgumentError("--etcd-* flags need --meta-store-type etcd");
  }
  if (type == "etcd" && (!f.sql_endpoint.empty() || !f.sql_username.empty() ||
                         !f.sql_password.empty() || !f.sql_database.empty())) {
    return InvalidArgumentError("--sql-* flags do not apply to --meta-store-type etcd");
  }
  if (type == "etcd" && !f.etcd_auth && (!f.etcd_username.empty() || !f.etcd_password.empty())) {
    return InvalidArgumentError("--etcd-username and --etcd-password need --etcd-auth");
  }
  if ((type == "sql" || type == "sqlite") && IsInMemorySqlite(f.sql_endpoint)) {
    return InvalidArgumentError(
        "--sql-endpoint names an in-memory SQLite database, which vanishes when risectl exits: "
        "restore into a file or a server");
  }
  if (type == "sql") {
    if (f.sql_endpoint.empty()) {
      return InvalidArgumentError("--meta-store-type sql needs --sql-endpoint (a full URL)");
    }
    if (!f.sql_username.empty() || !f.sql_password.empty() || !f.sql_database.empty() ||
        f.sql_url_params.has_value()) {
      return InvalidArgumentError(
          "--meta-store-type sql takes the whole URL in --sql-endpoint; --sql-username, "
          "--sql-password, --sql-database and --sql-url-params are for postgres and mysql");
    }
    constexpr std::string_view kSqlite = "sqlite://";
    if (f.sql_endpoint.starts_with(kSqlite) && !f.sql_endpoint.starts_with("sqlite:///")) {
      // RisingWave's own spelling sqlite://relative.db?mode=rwc: resolve against the cwd.
      std::string rest = f.sql_endpoint.substr(kSqlite.size());
      std::string query;
      if (size_t q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q);
        rest.resize(q);
      }
      std::error_code ec;
      std::filesystem::path abs = std::filesystem::absolute(rest, ec);
      if (ec || rest.empty()) {
        return InvalidArgumentError(fmt::format("--sql-endpoint: bad SQLite path '{}'", rest));
      }
      return "sqlite://" + abs.lexically_normal().string() + query;
    }
    auto parsed = ParseUrl(f.sql_endpoint);
    if (!parsed.ok()) return parsed.status().WithContext("--sql-endpoint");
    if (parsed->scheme != "sqlite" && parsed->scheme != "postgres" &&
        parsed->scheme != "postgresql" && parsed->scheme != "mysql") {
      return InvalidArgumentError(
          fmt::format("--sql-endpoint {}: scheme {} is not sqlite, postgres or mysql",
                      RedactUrl(f.sql_endpoint), parsed->scheme));
    }
  }
  if ((type == "postgres" || type == "mysql") && f.sql_username.empty() &&
      !f.sql_password.empty()) {
    return InvalidArgumentError("--sql-password needs --sql-username");
  }
  return metastore::BuildMetaStoreUrl(f);
}

}  // namespace rwmeta::restore
