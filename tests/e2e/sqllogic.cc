#include "e2e/sqllogic.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "testing/libpq_handles.h"

namespace rwmeta::e2e {

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

using Conn = ::rwmeta::testing::PgConn;
using ::rwmeta::testing::PgResult;

Result<Conn> Connect(int port, const SqlRecord& who) {
  std::string conninfo = fmt::format("host=127.0.0.1 port={} user={} dbname={} connect_timeout=10",
                                     port, who.connect_user, who.connect_db);
  if (!who.connect_password.empty()) conninfo += " password=" + who.connect_password;
  Conn conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return UnavailableError(
        fmt::format("connect as {}: {}", who.connect_user, PQerrorMessage(conn.get())));
  }
  return conn;
}

std::vector<std::string> Rows(PGresult* res) {
  std::vector<std::string> rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    std::string row;
    for (int c = 0; c < PQnfields(res); ++c) {
      if (c > 0) row += "|";
      row += PQgetisnull(res, r, c) ? "NULL" : PQgetvalue(res, r, c);
    }
    rows.push_back(row);
  }
  return rows;
}

std::string Join(const std::vector<std::string>& rows) {
  std::string out;
  for (const auto& r : rows) out += "  " + r + "\n";
  return out.empty() ? "  (no rows)\n" : out;
}

std::string ErrorOf(PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return fmt::format("{} {}", state ? state : "?????", Trim(PQresultErrorMessage(res)));
}

bool IsError(PGresult* res) {
  auto st = PQresultStatus(res);
  return st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR;
}

}  // namespace

Result<std::vector<SqlRecord>> ParseSqlTestFile(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  std::vector<SqlRecord> records;
  size_t i = 0;
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError(fmt::format("line {}: {}", i + 1, why));
  };
  while (i < lines.size()) {
    std::string head = Trim(lines[i]);
    if (head.empty() || head[0] == '#') {
      ++i;
      continue;
    }
    SqlRecord rec;
    rec.line = static_cast<int>(i + 1);
    std::istringstream words(head);
    std::string w1, w2;
    words >> w1 >> w2;
    if (w1 == "restart") {
      if (!w2.empty() && w2 != "kill") return bad("restart takes no option but kill");
      rec.kind = SqlRecord::Kind::kRestart;
      rec.kill = w2 == "kill";
      records.push_back(rec);
      ++i;
      continue;
    }
    if (w1 == "connect") {
      rec.kind = SqlRecord::Kind::kConnect;
      std::istringstream kvs(head.substr(7));
      for (std::string kv; kvs >> kv;) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) return bad("connect takes key=value pairs");
        std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "user")
          rec.connect_user = v;
        else if (k == "password")
          rec.connect_password = v;
        else if (k == "db")
          rec.connect_db = v;
        else
          return bad("unknown connect key " + k);
      }
      records.push_back(rec);
      ++i;
      continue;
    }
    if (w1 == "statement" && w2 == "ok") {
      rec.kind = SqlRecord::Kind::kStatementOk;
    } else if (w1 == "statement" && w2 == "error") {
      rec.kind = SqlRecord::Kind::kStatementError;
      std::string rest;
      words >> rec.error_sqlstate;
      std::getline(words, rest);
      rec.error_substring = Trim(rest);
      if (rec.error_sqlstate.size() != 5)
        return bad("statement error needs a 5-character SQLSTATE");
    } else if (w1 == "query") {
      rec.kind = SqlRecord::Kind::kQuery;
      rec.rowsort = w2 == "rowsort";
      if (!w2.empty() && w2 != "rowsort") return bad("unknown query option " + w2);
    } else {
      return bad("expected statement, query, restart or connect, got: " + head);
    }
    ++i;
    std::string sql;
    while (i < lines.size() && !Trim(lines[i]).empty() && Trim(lines[i]) != "----") {
      sql += lines[i] + "\n";
      ++i;
    }
    if (Trim(sql).empty()) return bad("record without SQL");
    rec.sql = Trim(sql);
    if (rec.kind == SqlRecord::Kind::kQuery) {
      if (i >= lines.size() || Trim(lines[i]) != "----") return bad("query without ---- separator");
      ++i;
      while (i < lines.size() && !Trim(lines[i]).empty()) {
        rec.expected.push_back(Trim(lines[i]));
        ++i;
      }
    }
    records.push_back(rec);
  }
  return records;
}

Status RunSqlRecords(const std::vector<SqlRecord>& records, int port,
                     const std::function<Result<int>(bool kill)>& restart) {
  SqlRecord who;  // defaults: root on dev
  RWMETA_ASSIGN_OR_RETURN(Conn conn, Connect(port, who));
  for (const auto& rec : records) {
    auto fail = [&](const std::string& what) {
      return FailedPreconditionError(
          fmt::format("line {}: {}\n  SQL: {}", rec.line, what, rec.sql));
    };
    switch (rec.kind) {
      case SqlRecord::Kind::kRestart: {
        conn.reset();
        RWMETA_ASSIGN_OR_RETURN(port, restart(rec.kill));
        RWMETA_ASSIGN_OR_RETURN(conn, Connect(port, who));
        break;
      }
      case SqlRecord::Kind::kConnect: {
        who = rec;
        auto c = Connect(port, who);
        if (!c.ok()) return fail(c.status().message());
        conn = std::move(c).value();
        break;
      }
      case SqlRecord::Kind::kStatementOk: {
        PgResult res(PQexec(conn.get(), rec.sql.c_str()));
        if (IsError(res.get())) return fail("expected success, got " + ErrorOf(res.get()));
        break;
      }
      case SqlRecord::Kind::kStatementError: {
        PgResult res(PQexec(conn.get(), rec.sql.c_str()));
        if (!IsError(res.get()))
          return fail("expected error " + rec.error_sqlstate + ", got success");
        const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        std::string msg = PQresultErrorMessage(res.get());
        if (state == nullptr || rec.error_sqlstate != state ||
            msg.find(rec.error_substring) == std::string::npos) {
          return fail(fmt::format("expected error {} '{}', got {}", rec.error_sqlstate,
                                  rec.error_substring, ErrorOf(res.get())));
        }
        break;
      }
      case SqlRecord::Kind::kQuery: {
        PgResult simple(PQexec(conn.get(), rec.sql.c_str()));
        if (PQresultStatus(simple.get()) != PGRES_TUPLES_OK) {
          return fail("query failed (simple protocol): " + ErrorOf(simple.get()));
        }
        PgResult extended(
            PQexecParams(conn.get(), rec.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
        if (PQresultStatus(extended.get()) != PGRES_TUPLES_OK) {
          return fail("query failed (extended protocol): " + ErrorOf(extended.get()));
        }
        std::vector<std::string> got = Rows(simple.get());
        std::vector<std::string> got_ext = Rows(extended.get());
        std::vector<std::string> want = rec.expected;
        if (rec.rowsort) {
          std::sort(got.begin(), got.end());
          std::sort(got_ext.begin(), got_ext.end());
          std::sort(want.begin(), want.end());
        }
        if (got != want) {
          return fail("rows differ\n expected:\n" + Join(want) + " got:\n" + Join(got));
        }
        if (got_ext != got) {
          return fail("extended protocol disagrees\n simple:\n" + Join(got) + " extended:\n" +
                      Join(got_ext));
        }
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace rwmeta::e2e
