// CatalogManager: privileges (GRANT and REVOKE on databases, schemas, tables and views).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "meta/catalog_internal.h"
#include "meta/catalog_manager.h"

namespace rwmeta::meta {

namespace {

using catalog_internal::ActorDatabase;
using catalog_internal::ActorUser;
using catalog_internal::DenyError;
using catalog_internal::LookupSchema;
using catalog_internal::WithState;
using metastore::Key;
using metastore::Model;
using metastore::Row;
using metastore::Transaction;

const std::vector<std::string>& ActionsFor(GrantTargetType type) {
  static const std::vector<std::string> kDatabase{"CONNECT", "CREATE"};
  static const std::vector<std::string> kSchema{"CREATE", "USAGE"};
  static const std::vector<std::string> kTable{"SELECT", "INSERT", "UPDATE", "DELETE"};
  switch (type) {
    case GrantTargetType::kDatabase:
      return kDatabase;
    case GrantTargetType::kSchema:
      return kSchema;
    case GrantTargetType::kTable:
      return kTable;
  }
  return kTable;
}

const char* TargetTypeName(GrantTargetType type) {
  switch (type) {
    case GrantTargetType::kDatabase:
      return "database";
    case GrantTargetType::kSchema:
      return "schema";
    case GrantTargetType::kTable:
      return "table";
  }
  return "object";
}

struct GrantTarget {
  int64_t oid;
  int64_t owner_id;
  std::string name;
};

Result<std::vector<GrantTarget>> ResolveGrantTargets(const CatalogSnapshot& snap,
                                                     const CatalogActor& actor,
                                                     GrantTargetType type,
                                                     const std::vector<QualifiedName>& objects) {
  std::vector<GrantTarget> out;
  for (const auto& o : objects) {
    if (type == GrantTargetType::kDatabase) {
      const DatabaseInfo* db = snap.FindDatabase(o.name);
      if (db == nullptr) {
        return WithState(NotFoundError(fmt::format("database \"{}\" does not exist", o.name)),
                         "3D000");
      }
      out.push_back({db->id, db->owner_id, db->name});
      continue;
    }
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    if (type == GrantTargetType::kSchema) {
      RWMETA_ASSIGN_OR_RETURN(const SchemaInfo* s, LookupSchema(snap, db->id, o.name));
      out.push_back({s->id, s->owner_id, s->name});
      continue;
    }
    RWMETA_ASSIGN_OR_RETURN(const SchemaInfo* s, LookupSchema(snap, db->id, o.schema));
    if (const TableInfo* t = snap.FindTable(s->id, o.name)) {
      out.push_back({t->id, t->owner_id, t->name});
    } else if (const ViewInfo* v = snap.FindView(s->id, o.name)) {
      out.push_back({v->id, v->owner_id, v->name});
    } else {
      return WithState(NotFoundError(fmt::format("relation \"{}\" does not exist", o.name)),
                       "42P01");
    }
  }
  return out;
}

Result<std::vector<std::string>> ExpandActions(GrantTargetType type,
                                               const std::vector<std::string>& actions) {
  const auto& allowed = ActionsFor(type);
  if (actions.empty()) return allowed;  // ALL [PRIVILEGES]
  std::vector<std::string> out;
  for (const auto& a : actions) {
    std::string upper;
    for (char c : a) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "ALL") return allowed;
    if (std::find(allowed.begin(), allowed.end(), upper) == allowed.end()) {
      return WithState(InvalidArgumentError(fmt::format("invalid privilege type {} for {}", upper,
                                                        TargetTypeName(type))),
                       "0LP01");
    }
    out.push_back(upper);
  }
  return out;
}

Result<std::vector<const UserInfo*>> ResolveGrantees(const CatalogSnapshot& snap,
                                                     const std::vector<std::string>& names) {
  std::vector<const UserInfo*> out;
  for (const auto& n : names) {
    const UserInfo* u = snap.FindUser(n);
    if (u == nullptr) {
      return WithState(NotFoundError(fmt::format("user \"{}\" does not exist", n)), "42704");
    }
    out.push_back(u);
  }
  return out;
}

bool MayGrant(const CatalogSnapshot& snap, const UserInfo& user, const GrantTarget& target,
              const std::string& action) {
  if (user.is_super || target.owner_id == user.id) return true;
  const PrivilegeInfo* p = snap.FindPrivilege(user.id, target.oid, action);
  return p != nullptr && p->with_grant_option;
}

}  // namespace

Result<DdlResult> CatalogManager::Grant(const CatalogActor& actor, GrantTargetType type,
                                        const std::vector<QualifiedName>& objects,
                                        const std::vector<std::string>& actions,
                                        const std::vector<std::string>& grantees,
                                        bool with_grant_option) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(auto targets, ResolveGrantTargets(snap, actor, type, objects));
    RWMETA_ASSIGN_OR_RETURN(auto expanded, ExpandActions(type, actions));
    RWMETA_ASSIGN_OR_RETURN(auto users, ResolveGrantees(snap, grantees));
    const auto& table = Model::Get().Table("user_privilege");
    for (const auto& target : targets) {
      for (const auto& action : expanded) {
        if (!MayGrant(snap, *user, target, action)) {
          return DenyError(
              fmt::format("permission denied for {} {}", TargetTypeName(type), target.name));
        }
        for (const UserInfo* grantee : users) {
          const PrivilegeInfo* existing = snap.FindPrivilege(grantee->id, target.oid, action);
          if (existing != nullptr) {
            if (with_grant_option && !existing->with_grant_option) {
              RWMETA_RETURN_IF_ERROR(
                  txn.Update(table, Row{existing->id, existing->user_id, existing->oid,
                                        existing->granted_by, existing->action, true}));
            }
            continue;
          }
          RWMETA_ASSIGN_OR_RETURN(int64_t id, metastore::NextKey(txn, table));
          RWMETA_RETURN_IF_ERROR(txn.Insert(
              table, Row{id, grantee->id, target.oid, user->id, action, with_grant_option}));
        }
      }
    }
    (void)out;
    return Status::Ok();
  });
}

Result<DdlResult> CatalogManager::Revoke(const CatalogActor& actor, GrantTargetType type,
                                         const std::vector<QualifiedName>& objects,
                                         const std::vector<std::string>& actions,
                                         const std::vector<std::string>& grantees) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(auto targets, ResolveGrantTargets(snap, actor, type, objects));
    RWMETA_ASSIGN_OR_RETURN(auto expanded, ExpandActions(type, actions));
    RWMETA_ASSIGN_OR_RETURN(auto users, ResolveGrantees(snap, grantees));
    for (const auto& target : targets) {
      for (const auto& action : expanded) {
        if (!MayGrant(snap, *user, target, action)) {
          return DenyError(
              fmt::format("permission denied for {} {}", TargetTypeName(type), target.name));
        }
        for (const UserInfo* grantee : users) {
          if (const PrivilegeInfo* p = snap.FindPrivilege(grantee->id, target.oid, action)) {
            RWMETA_RETURN_IF_ERROR(txn.Delete(Model::Get().Table("user_privilege"), Key{p->id}));
          }
        }
      }
    }
    (void)out;
    return Status::Ok();
  });
}

}  // namespace rwmeta::meta
