// libpq connections and results that free themselves, for tests that talk to a server through
// libpq (the frontend's wire tests, the sqllogic runner). Header-only: only targets that link
// libpq include it.
#pragma once

#include <libpq-fe.h>

#include <memory>

namespace rwmeta::testing {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

}  // namespace rwmeta::testing
