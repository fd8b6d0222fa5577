#include "metastore/endpoint.h"

#include <fmt/format.h>

#include <filesystem>

namespace rwmeta::metastore {

std::string PercentEncode(const std::string& text) {
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

namespace {

Result<std::string> ServerUrl(const std::string& scheme, const MetaStoreEndpoint& e) {
  if (e.sql_endpoint.empty()) {
    return InvalidArgumentError(
        fmt::format("--sql-endpoint (host[:port]) is required for {}", scheme));
  }
  if (e.sql_endpoint.find("://") != std::string::npos) {
    return InvalidArgumentError(fmt::format(
        "--sql-endpoint for {} is host[:port], not a URL; use --backend sql for a full URL",
        scheme));
  }
  if (e.sql_database.empty()) {
    return InvalidArgumentError(fmt::format("--sql-database is required for {}", scheme));
  }
  std::string url = scheme + "://";
  if (!e.sql_username.empty()) {
    url += PercentEncode(e.sql_username);
    if (!e.sql_password.empty()) url += ":" + PercentEncode(e.sql_password);
    url += "@";
  }
  url += e.sql_endpoint + "/" + PercentEncode(e.sql_database);
  if (e.sql_url_params.has_value() && !e.sql_url_params->empty()) url += "?" + *e.sql_url_params;
  return url;
}

}  // namespace

Result<std::string> BuildMetaStoreUrl(const MetaStoreEndpoint& e) {
  const std::string& t = e.type;
  if (t == "memory" || t == "mem") return std::string("memory");
  if (t == "sqlite") {
    if (e.sql_endpoint.empty()) {
      return InvalidArgumentError("--sql-endpoint (the SQLite file) is required for sqlite");
    }
    if (e.sql_endpoint.rfind("sqlite://", 0) == 0) return e.sql_endpoint;
    std::error_code ec;
    std::filesystem::path path = std::filesystem::absolute(e.sql_endpoint, ec);
    if (ec)
      return InvalidArgumentError(
          fmt::format("bad SQLite path {}: {}", e.sql_endpoint, ec.message()));
    return fmt::format("sqlite://{}?mode=rwc", path.lexically_normal().string());
  }
  if (t == "sql") {
    if (e.sql_endpoint.find("://") == std::string::npos) {
      return InvalidArgumentError(
          "--sql-endpoint must be a full URL for --backend sql (sqlite:///path.db, "
          "postgres://user:pass@host:port/db, mysql://user:pass@host:port/db)");
    }
    return e.sql_endpoint;
  }
  if (t == "postgres" || t == "postgresql") return ServerUrl("postgres", e);
  if (t == "mysql") return ServerUrl("mysql", e);
  if (t == "etcd") {
    if (e.etcd_endpoints.empty())
      return InvalidArgumentError("--etcd-endpoints is required for etcd");
    std::string url = "etcd://";
    if (e.etcd_auth) {
      if (e.etcd_username.empty()) {
        return InvalidArgumentError("--etcd-username is required with --etcd-auth");
      }
      url += PercentEncode(e.etcd_username) + ":" + PercentEncode(e.etcd_password) + "@";
    }
    return url + e.etcd_endpoints;
  }
  return InvalidArgumentError(fmt::format(
      "unknown meta store type '{}' (expected sqlite, sql, postgres, mysql, etcd or memory)", t));
}

}  // namespace rwmeta::metastore
