#include "restore/target_url.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "common/url.h"

namespace rwmeta::restore {

namespace {

Result<std::string> AbsolutePath(const std::string& path, const char* flag) {
  if (path.empty()) return InvalidArgumentError(fmt::format("{} is empty", flag));
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) {
    return InvalidArgumentError(
        fmt::format("{}: cannot make {} absolute: {}", flag, path, ec.message()));
  }
  return abs.lexically_normal().string();
}

bool IsInMemorySqlite(std::string_view url) {
  return url.find(":memory:") != std::string_view::npos ||
         url.find("mode=memory") != std::string_view::npos;
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<std::string> MetaStoreUrl(const MetaStoreFlags& f) {
  const std::string& type = f.type;
  const bool sql_kind = type == "sql" || type == "sqlite" || type == "postgres" || type == "mysql";
  if (!sql_kind && type != "etcd") {
    return InvalidArgumentError(
        fmt::format("--meta-store-type {} is not one of sql, sqlite, postgres, mysql, etcd", type));
  }
  if (sql_kind && (!f.etcd_endpoints.empty() || f.etcd_auth)) {
    return InvalidArgumentError("--etcd-* flags need --meta-store-type etcd");
  }
  if (type == "etcd" && (!f.sql_endpoint.empty() || !f.sql_username.empty() ||
                         !f.sql_password.empty() || !f.sql_database.empty())) {
    return InvalidArgumentError("--sql-* flags do not apply to --meta-store-type etcd");
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
    if (IsInMemorySqlite(f.sql_endpoint)) {
      return InvalidArgumentError(
          "--sql-endpoint names an in-memory SQLite database, which vanishes when risectl exits: "
          "restore into a file or a server");
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
      RWMETA_ASSIGN_OR_RETURN(std::string abs, AbsolutePath(rest, "--sql-endpoint"));
      return "sqlite://" + abs + query;
    }
    auto parsed = ParseUrl(f.sql_endpoint);
    if (!parsed.ok()) return parsed.status().WithContext("--sql-endpoint");
    if (parsed->scheme != "sqlite" && parsed->scheme != "postgres" &&
        parsed->scheme != "postgresql" && parsed->scheme != "mysql") {
      return InvalidArgumentError(
          fmt::format("--sql-endpoint {}: scheme {} is not sqlite, postgres or mysql",
                      RedactUrl(f.sql_endpoint), parsed->scheme));
    }
    return f.sql_endpoint;
  }
  if (type == "sqlite") {
    if (IsInMemorySqlite(f.sql_endpoint)) {
      return InvalidArgumentError(
          "--sql-endpoint names an in-memory SQLite database, which vanishes when risectl exits");
    }
    RWMETA_ASSIGN_OR_RETURN(std::string abs, AbsolutePath(f.sql_endpoint, "--sql-endpoint"));
    return "sqlite://" + abs + "?mode=rwc";
  }
  if (type == "postgres" || type == "mysql") {
    if (f.sql_endpoint.empty()) {
      return InvalidArgumentError(
          fmt::format("--meta-store-type {} needs --sql-endpoint host[:port]", type));
    }
    if (f.sql_endpoint.find("://") != std::string::npos ||
        f.sql_endpoint.find('/') != std::string::npos) {
      return InvalidArgumentError(fmt::format(
          "--sql-endpoint for {} is host[:port], not a URL (use --meta-store-type sql for a "
          "whole URL)",
          type));
    }
    if (f.sql_database.empty()) {
      return InvalidArgumentError(fmt::format("--meta-store-type {} needs --sql-database", type));
    }
    std::string url = type + "://";
    if (!f.sql_username.empty()) {
      url += PercentEncode(f.sql_username);
      if (!f.sql_password.empty()) url += ":" + PercentEncode(f.sql_password);
      url += "@";
    } else if (!f.sql_password.empty()) {
      return InvalidArgumentError("--sql-password needs --sql-username");
    }
    url += f.sql_endpoint + "/" + PercentEncode(f.sql_database);
    if (f.sql_url_params.has_value() && !f.sql_url_params->empty()) {
      std::string params = *f.sql_url_params;
      if (params.starts_with("?")) params.erase(0, 1);
      url += "?" + params;
    }
    return url;
  }
  // etcd
  if (f.etcd_endpoints.empty()) {
    return InvalidArgumentError("--meta-store-type etcd needs --etcd-endpoints host:port[,...]");
  }
  if (f.etcd_endpoints.find("://") != std::string::npos) {
    return InvalidArgumentError("--etcd-endpoints takes host:port[,host:port...], not URLs");
  }
  std::string url = "etcd://";
  if (f.etcd_auth) {
    if (f.etcd_username.empty()) {
      return InvalidArgumentError("--etcd-auth needs --etcd-username and --etcd-password");
    }
    url += PercentEncode(f.etcd_username) + ":" + PercentEncode(f.etcd_password) + "@";
  } else if (!f.etcd_username.empty() || !f.etcd_password.empty()) {
    return InvalidArgumentError("--etcd-username and --etcd-password need --etcd-auth");
  }
  return url + f.etcd_endpoints;
}

}  // namespace rwmeta::restore
