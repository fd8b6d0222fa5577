#include "metastore/factory.h"

#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "common/url.h"
#include "metastore/etcd/etcd_meta_store.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/mysql/mysql_meta_store.h"
#include "metastore/postgres/postgres_meta_store.h"
#include "metastore/sqlite/sqlite_meta_store.h"

namespace rwmeta::metastore {

namespace {

std::string LowerScheme(std::string_view url) {
  std::string scheme(url.substr(0, url.find(':')));
  for (char& c : scheme) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return scheme;
}

Result<std::unique_ptr<MetaStore>> OpenSqlite(const Url& url, std::string_view text,
                                              const Model& model) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("meta store url {}: {}", RedactUrl(text), why));
  };
  if (!url.host.empty() || !url.user.empty() || url.port.has_value()) {
    return bad("expected sqlite:///absolute/path.db (three slashes, no host)");
  }
  if (url.path.empty() || url.path.front() != '/' || url.path.back() == '/') {
    return bad("expected an absolute file path");
  }
  SqliteOptions options;
  for (const auto& [key, value] : url.query) {
    if (key != "mode") return bad(fmt::format("unknown parameter '{}'", key));
    if (value == "rwc") {
      options.create = true;
    } else if (value == "rw") {
      options.create = false;
    } else {
      return bad(fmt::format("mode must be rwc or rw, not '{}'", value));
    }
  }
  if (options.create) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(url.path).parent_path(), ec);
    if (ec) {
      return InternalError(
          fmt::format("sqlite {}: cannot create its directory: {}", url.path, ec.message()));
    }
  }
  RWMETA_ASSIGN_OR_RETURN(auto store, SqliteMetaStore::Open(url.path, model, options));
  return std::unique_ptr<MetaStore>(std::move(store));
}

Result<std::unique_ptr<MetaStore>> OpenEtcdUrl(std::string_view text, const Model& model) {
  RWMETA_ASSIGN_OR_RETURN(EtcdMetaStoreOptions options, ParseEtcdUrl(text));
  RWMETA_ASSIGN_OR_RETURN(auto store, EtcdMetaStore::Open(std::move(options), model));
  return std::unique_ptr<MetaStore>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<MetaStore>> OpenMetaStore(std::string_view text, const Model& model) {
  // Checked before parsing: etcd URLs list several endpoints ("etcd://h1:2379,h2:2379").
  const std::string scheme = LowerScheme(text);
  if (scheme == "etcd") return OpenEtcdUrl(text, model);
  if (scheme == "postgres" || scheme == "postgresql") {
    RWMETA_ASSIGN_OR_RETURN(auto store, PostgresMetaStore::Open(text, model));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  if (scheme == "mysql") {
    RWMETA_ASSIGN_OR_RETURN(auto store, MysqlMetaStore::Open(text, model));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  if (text == "memory") return std::unique_ptr<MetaStore>(std::make_unique<MemoryMetaStore>(model));
  RWMETA_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  if (url.scheme == "sqlite") return OpenSqlite(url, text, model);
  return InvalidArgumentError(fmt::format(
      "meta store url {}: unknown scheme '{}' (expected memory, sqlite, postgres, mysql or etcd)",
      RedactUrl(text), url.scheme));
}

}  // namespace rwmeta::metastore
