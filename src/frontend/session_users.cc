// FrontendSession: users and privileges (CREATE/ALTER USER and ROLE, GRANT, REVOKE).
#include <fmt/format.h>

#include "frontend/session.h"
#include "frontend/session_internal.h"
#include "frontend/sql/parse_tree.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend {

namespace {

Result<meta::CreateUserOptions> UserOptions(const json& options) {
  meta::CreateUserOptions o;
  for (const auto& opt : options) {
    if (!opt.contains("DefElem")) continue;
    const json& d = opt["DefElem"];
    std::string name = d.value("defname", "");
    bool flag = d.contains("arg") && d["arg"].contains("Boolean")
                    ? d["arg"]["Boolean"].value("boolval", false)
                    : true;
    if (name == "superuser") {
      o.superuser = flag;
    } else if (name == "createdb") {
      o.create_db = flag;
    } else if (name == "createrole") {
      o.create_user = flag;
    } else if (name == "canlogin") {
      o.login = flag;
    } else if (name == "password") {
      if (d.contains("arg") && d["arg"].contains("String")) {
        o.password = std::optional<std::string>(StrOf(d["arg"]));
      } else {
        o.password = std::optional<std::string>();
      }
    } else if (name == "inherit") {
      // Role inheritance is always on; nothing to store.
    } else {
      return sql::NotSupported(fmt::format("user option \"{}\" is not supported", name));
    }
  }
  return o;
}

}  // namespace

Result<ResultSet> FrontendSession::ExecuteCreateUser(const json& stmt) {
  RWMETA_ASSIGN_OR_RETURN(auto options, UserOptions(stmt.value("options", json::array())));
  // CREATE ROLE defaults to NOLOGIN, CREATE USER to LOGIN, as in PostgreSQL.
  if (!options.login) options.login = stmt.value("stmt_type", "") != "ROLESTMT_ROLE";
  if (stmt.value("stmt_type", "") == "ROLESTMT_GROUP")
    return NotSupported("CREATE GROUP is not supported");
  RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.CreateUser(Actor(), stmt.value("role", ""), options,
                                                        stmt.value("if_not_exists", false)));
  return WithNotices("CREATE ROLE", ddl);
}

Result<ResultSet> FrontendSession::ExecuteAlterUser(const json& stmt) {
  const json& role = stmt.value("role", json::object());
  std::string name;
  std::string roletype = role.value("roletype", "");
  if (roletype == "ROLESPEC_CSTRING") {
    name = role.value("rolename", "");
  } else if (roletype == "ROLESPEC_CURRENT_USER" || roletype == "ROLESPEC_SESSION_USER" ||
             roletype == "ROLESPEC_CURRENT_ROLE") {
    name = user_;
  } else {
    return NotSupported("ALTER USER of this role is not supported");
  }
  RWMETA_ASSIGN_OR_RETURN(auto options, UserOptions(stmt.value("options", json::array())));
  RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.AlterUser(Actor(), name, options));
  return WithNotices("ALTER ROLE", ddl);
}

Result<ResultSet> FrontendSession::ExecuteGrant(const json& stmt) {
  bool is_grant = stmt.value("is_grant", false);
  if (stmt.value("targtype", "") != "ACL_TARGET_OBJECT") {
    return NotSupported("GRANT ON ALL ... IN SCHEMA is not supported yet");
  }
  std::string objtype = stmt.value("objtype", "");
  meta::GrantTargetType type;
  if (objtype == "OBJECT_TABLE") {
    type = meta::GrantTargetType::kTable;
  } else if (objtype == "OBJECT_DATABASE") {
    type = meta::GrantTargetType::kDatabase;
  } else if (objtype == "OBJECT_SCHEMA") {
    type = meta::GrantTargetType::kSchema;
  } else {
    return NotSupported(fmt::format("GRANT on {} is not supported yet", objtype));
  }
  std::vector<meta::QualifiedName> objects;
  for (const auto& o : stmt.value("objects", json::array())) {
    if (o.contains("RangeVar")) {
      const json& rv = o["RangeVar"];
      std::string name = rv.value("relname", "");
      std::string schema = rv.value("schemaname", "");
      if (schema.empty()) schema = SchemaForExisting(name, false);
      objects.push_back({schema, name});
    } else {
      objects.push_back({"", StrOf(o)});
    }
  }
  std::vector<std::string> actions;
  for (const auto& p : stmt.value("privileges", json::array())) {
    if (!p.contains("AccessPriv")) continue;
    if (p["AccessPriv"].contains("cols"))
      return NotSupported("column privileges are not supported");
    actions.push_back(p["AccessPriv"].value("priv_name", ""));
  }
  std::vector<std::string> grantees;
  for (const auto& g : stmt.value("grantees", json::array())) {
    const json& spec = g.value("RoleSpec", json::object());
    if (spec.value("roletype", "") != "ROLESPEC_CSTRING") {
      return NotSupported("GRANT to PUBLIC or a role expression is not supported yet");
    }
    grantees.push_back(spec.value("rolename", ""));
  }
  if (is_grant) {
    RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.Grant(Actor(), type, objects, actions, grantees,
                                                     stmt.value("grant_option", false)));
    return WithNotices("GRANT", ddl);
  }
  RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.Revoke(Actor(), type, objects, actions, grantees));
  return WithNotices("REVOKE", ddl);
}

}  // namespace rwmeta::frontend
