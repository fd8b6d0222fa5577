#include "testing/sql_server.h"

#include <fmt/format.h>

namespace rwmeta::testing {

std::string SqlServer::Url(const std::string& database, const std::string& user,
                           const std::string& password) const {
  return fmt::format("{}://{}:{}@127.0.0.1:{}/{}", scheme_, user, password, port_, database);
}

}  // namespace rwmeta::testing
