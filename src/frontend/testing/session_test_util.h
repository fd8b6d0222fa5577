// Test-only: what the frontend's session tests share (session_test.cc, system_catalogs_test.cc,
// table_data_test.cc, meta_snapshot_test.cc, wire_test.cc): a cluster bootstrapped for tests, the
// managers a session factory needs, running one statement, and results as rows of text.
// Header-only: the frontend's CMake globs every .cc of the folder into the library.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/testing/status_matchers.h"
#include "meta/bootstrap.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "metastore/meta_store.h"
#include "pgwire/session.h"
#include "testing/libpq_handles.h"

namespace rwmeta::frontend::test_util {

// Result rows as text, NULL shown as "NULL".
using Rows = std::vector<std::vector<std::string>>;

inline Rows RowsOf(const pgwire::ResultSet& r) {
  Rows out;
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(v ? *v : "NULL");
    out.push_back(std::move(cells));
  }
  return out;
}

// Bootstraps `store` as a meta node does, with `state_store` (default: an in-memory Hummock).
inline Status BootstrapForTest(metastore::MetaStore& store,
                               std::string state_store = "hummock+memory") {
  meta::BootstrapOptions o;
  o.state_store = std::move(state_store);
  o.data_directory = "hummock_001";
  return meta::BootstrapCluster(store, o).status();
}

// The catalog and system parameter managers over a bootstrapped store, opened as a meta node
// opens them.
struct Managers {
  std::unique_ptr<meta::CatalogManager> catalog;
  std::unique_ptr<meta::SystemParamsManager> params;
};
inline Result<Managers> OpenManagers(metastore::MetaStore& store) {
  Managers m;
  RWMETA_ASSIGN_OR_RETURN(m.catalog, meta::CatalogManager::Open(store));
  m.params = std::make_unique<meta::SystemParamsManager>(store);
  RWMETA_RETURN_IF_ERROR(m.params->Reload());
  return m;
}

// Runs `sql`, which must be one statement, and returns its result.
inline Result<pgwire::ResultSet> RunOne(pgwire::Session& s, std::string_view sql) {
  std::vector<pgwire::ResultSet> results;
  RWMETA_RETURN_IF_ERROR(s.ExecuteSimple(sql, &results));
  if (results.size() != 1) return InternalError("expected one result");
  return results[0];
}

// Runs `sql` and expects it to succeed with `tag`; returns the rows.
inline Rows ExpectOk(pgwire::Session& s, std::string_view sql, const std::string& tag) {
  auto r = RunOne(s, sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
  if (!r.ok()) return {};
  EXPECT_EQ(r->command_tag, tag) << sql;
  return RowsOf(*r);
}

// Runs `sql` and expects it to succeed; returns the rows.
inline Rows ExpectRows(pgwire::Session& s, std::string_view sql) {
  auto r = RunOne(s, sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
  return r.ok() ? RowsOf(*r) : Rows{};
}

// Runs `sql` and expects `code`, SQLSTATE `state` and a message containing `message`.
inline void ExpectFails(pgwire::Session& s, std::string_view sql, StatusCode code,
                        const std::string& state, const std::string& message) {
  auto r = RunOne(s, sql);
  EXPECT_THAT(r, ::rwmeta::testing::StatusIs(code, ::testing::HasSubstr(message))) << sql;
  EXPECT_EQ(r.status().sqlstate(), state) << sql << ": " << r.status();
}

using Conn = ::rwmeta::testing::PgConn;
using ::rwmeta::testing::PgResult;

}  // namespace rwmeta::frontend::test_util
