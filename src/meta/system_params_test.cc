#include "meta/system_params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "meta/bootstrap.h"
#include "meta/test_store.h"

namespace rwmeta::meta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParamDefsTest, TableFollowsRisingWave) {
  const ParamDef* barrier = FindParamDef("barrier_interval_ms");
  ASSERT_NE(barrier, nullptr);
  EXPECT_EQ(barrier->type, ParamType::kU32);
  EXPECT_EQ(*barrier->default_value, "1000");
  EXPECT_TRUE(barrier->is_mutable);
  EXPECT_FALSE(FindParamDef("state_store")->is_mutable);
  EXPECT_FALSE(FindParamDef("data_directory")->is_mutable);
  EXPECT_TRUE(FindParamDef("backup_storage_url")->is_mutable);
  EXPECT_FALSE(FindParamDef("backup_storage_url")->default_value.has_value());
  EXPECT_EQ(*FindParamDef("bloom_false_positive")->default_value, "0.001");
  EXPECT_EQ(*FindParamDef("time_travel_retention_ms")->default_value, "600000");
  EXPECT_EQ(FindParamDef("nope"), nullptr);
}

TEST(NormalizeParamValueTest, ChecksTypes) {
  const ParamDef& u32 = *FindParamDef("barrier_interval_ms");
  EXPECT_EQ(*NormalizeParamValue(u32, " 2000 "), "2000");
  EXPECT_THAT(NormalizeParamValue(u32, "-1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a u32")));
  EXPECT_THAT(NormalizeParamValue(u32, "4294967296"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(NormalizeParamValue(u32, "abc").status().sqlstate(), "22023");
  const ParamDef& u64 = *FindParamDef("checkpoint_frequency");
  EXPECT_EQ(*NormalizeParamValue(u64, "4294967296"), "4294967296");
  const ParamDef& b = *FindParamDef("enable_tracing");
  EXPECT_EQ(*NormalizeParamValue(b, "ON"), "true");
  EXPECT_EQ(*NormalizeParamValue(b, "f"), "false");
  EXPECT_THAT(NormalizeParamValue(b, "yes please"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a bool")));
  const ParamDef& f = *FindParamDef("bloom_false_positive");
  EXPECT_EQ(*NormalizeParamValue(f, "0.5"), "0.5");
  EXPECT_THAT(NormalizeParamValue(f, "0.5x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeParamValue(*FindParamDef("backup_storage_url"), "  "),
              StatusIs(StatusCode::kInvalidArgument, "backup_storage_url cannot be empty"));
  EXPECT_THAT(NormalizeParamValue(*FindParamDef("backup_storage_directory"), ""),
              StatusIs(StatusCode::kInvalidArgument, "backup_storage_directory cannot be empty"));
}

TEST(InitialParamValuesTest, DerivesBackupLocation) {
  ASSERT_OK_AND_ASSIGN(
      auto v, InitialParamValues("hummock+s3://state", "hummock_001", std::nullopt, std::nullopt));
  EXPECT_EQ(v["backup_storage_url"], "s3://state");
  EXPECT_EQ(v["backup_storage_directory"], "hummock_001/backup");
  EXPECT_EQ(v["state_store"], "hummock+s3://state");
  EXPECT_EQ(v["barrier_interval_ms"], "1000");
  EXPECT_EQ(v["license_key"], "");

  ASSERT_OK_AND_ASSIGN(auto plain, InitialParamValues("fs:///x", "d", std::nullopt, std::nullopt));
  EXPECT_EQ(plain["backup_storage_url"], "memory");

  ASSERT_OK_AND_ASSIGN(auto over, InitialParamValues("hummock+memory", "d", std::string("s3://b"),
                                                     std::string("bk")));
  EXPECT_EQ(over["backup_storage_url"], "s3://b");
  EXPECT_EQ(over["backup_storage_directory"], "bk");
  EXPECT_THAT(InitialParamValues("hummock+memory", "d", std::string(""), std::nullopt),
              StatusIs(StatusCode::kInvalidArgument, "backup_storage_url cannot be empty"));
  EXPECT_THAT(InitialParamValues("", "d", std::nullopt, std::nullopt),
              StatusIs(StatusCode::kInvalidArgument));
}

class RecordingListener : public ParamChangeListener {
 public:
  void OnParamChanged(const std::string& name, const ParamValues& old_values,
                      const ParamValues& new_values, std::vector<std::string>*) override {
    changes.push_back(name + ":" + old_values.at(name) + "->" + new_values.at(name));
  }
  std::vector<std::string> changes;
};

class SystemParamsManagerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BootstrapOptions options;
    options.state_store = "hummock+minio://key:secret@127.0.0.1:9301/state";
    options.data_directory = "data";
    ASSERT_OK(BootstrapCluster(store_, options).status());
    ASSERT_OK(params_.Reload());
    params_.AddListener(&listener_);
  }

  testing::TestStore store_{GetParam()};
  SystemParamsManager params_{store_};
  RecordingListener listener_;
};

TEST_P(SystemParamsManagerTest, SetPersistsAndNotifies) {
  ASSERT_OK_AND_ASSIGN(bool changed, params_.Set("barrier_interval_ms", "2000"));
  EXPECT_TRUE(changed);
  EXPECT_EQ(*params_.Get("barrier_interval_ms"), "2000");
  ASSERT_OK_AND_ASSIGN(changed, params_.Set("barrier_interval_ms", "2000"));
  EXPECT_FALSE(changed);
  ASSERT_OK_AND_ASSIGN(changed, params_.Set("backup_storage_url", "s3://other"));
  EXPECT_THAT(
      listener_.changes,
      ElementsAre("barrier_interval_ms:1000->2000",
                  "backup_storage_url:minio://key:secret@127.0.0.1:9301/state->s3://other"));
  // A second manager over the same store sees the persisted values.
  SystemParamsManager again(store_);
  ASSERT_OK(again.Reload());
  EXPECT_EQ(*again.Get("barrier_interval_ms"), "2000");
  EXPECT_EQ(*again.Get("backup_storage_url"), "s3://other");
}

TEST_P(SystemParamsManagerTest, SetToDefault) {
  ASSERT_OK(params_.Set("checkpoint_frequency", "10").status());
  ASSERT_OK(params_.Set("checkpoint_frequency", std::nullopt).status());
  EXPECT_EQ(*params_.Get("checkpoint_frequency"), "1");
  auto s = params_.Set("backup_storage_directory", std::nullopt);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument,
                          "parameter \"backup_storage_directory\" does not have a default value"));
}

TEST_P(SystemParamsManagerTest, RefusesBadChanges) {
  auto unknown = params_.Set("no_such_param", "1");
  EXPECT_THAT(unknown, StatusIs(StatusCode::kInvalidArgument,
                                "unrecognized configuration parameter \"no_such_param\""));
  EXPECT_EQ(unknown.status().sqlstate(), "42704");
  auto immutable = params_.Set("state_store", "hummock+memory");
  EXPECT_THAT(immutable, StatusIs(StatusCode::kFailedPrecondition,
                                  "cannot change immutable parameter \"state_store\""));
  EXPECT_EQ(immutable.status().sqlstate(), "55P02");
  auto bad = params_.Set("barrier_interval_ms", "soon");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, HasSubstr("u32")));
  EXPECT_EQ(bad.status().sqlstate(), "22023");
  EXPECT_THAT(params_.Set("backup_storage_url", ""),
              StatusIs(StatusCode::kInvalidArgument, "backup_storage_url cannot be empty"));
  EXPECT_EQ(*params_.Get("barrier_interval_ms"), "1000");
  EXPECT_TRUE(listener_.changes.empty());
}

TEST_P(SystemParamsManagerTest, DisplayRedactsUrls) {
  auto rows = params_.Display();
  ASSERT_EQ(rows.size(), AllParamDefs().size());
  EXPECT_EQ(rows[0].name, "barrier_interval_ms");
  EXPECT_EQ(rows[0].value, "1000");
  EXPECT_TRUE(rows[0].is_mutable);
  for (const auto& row : rows) {
    EXPECT_THAT(row.value, ::testing::Not(HasSubstr("secret"))) << row.name;
    if (row.name == "state_store") {
      EXPECT_EQ(row.value, "hummock+minio://key:***@127.0.0.1:9301/state");
      EXPECT_FALSE(row.is_mutable);
    }
  }
}

TEST_P(SystemParamsManagerTest, TheScheduleParametersHaveDefaultsAndAreMutable) {
  EXPECT_EQ(*params_.Get("backup_schedule_interval_sec"), "1800");
  EXPECT_EQ(*params_.Get("backup_retention_count"), "3");
  EXPECT_EQ(*params_.Get("backup_retention_sec"), "0");
  ASSERT_OK_AND_ASSIGN(bool changed, params_.Set("backup_schedule_interval_sec", "2"));
  EXPECT_TRUE(changed);
  EXPECT_THAT(params_.Set("backup_retention_count", "-1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a u32")));
  EXPECT_THAT(listener_.changes, ElementsAre("backup_schedule_interval_sec:1800->2"));
}

// A store written by an earlier rwmeta (or restored from its snapshot) has no row for a parameter
// added since: the parameter has its default, and setting it writes the row.
TEST_P(SystemParamsManagerTest, AParameterWithoutARowHasItsDefault) {
  ASSERT_OK(metastore::RunTransaction(store_, [](metastore::Transaction& txn) {
    return txn.Delete(metastore::Model::Get().Table("system_parameter"),
                      metastore::Key{std::string("backup_retention_count")});
  }));
  SystemParamsManager earlier(store_);
  ASSERT_OK(earlier.Reload());
  EXPECT_EQ(*earlier.Get("backup_retention_count"), "3");
  bool shown = false;
  for (const auto& row : earlier.Display()) {
    if (row.name == "backup_retention_count") {
      EXPECT_EQ(row.value, "3");
      shown = true;
    }
  }
  EXPECT_TRUE(shown);
  // Setting it to its default changes nothing; to another value writes the row.
  ASSERT_OK_AND_ASSIGN(bool changed, earlier.Set("backup_retention_count", "3"));
  EXPECT_FALSE(changed);
  ASSERT_OK_AND_ASSIGN(changed, earlier.Set("backup_retention_count", "5"));
  EXPECT_TRUE(changed);
  SystemParamsManager later(store_);
  ASSERT_OK(later.Reload());
  EXPECT_EQ(*later.Get("backup_retention_count"), "5");
}

INSTANTIATE_TEST_SUITE_P(Backends, SystemParamsManagerTest,
                         ::testing::ValuesIn(testing::kTestBackends));

}  // namespace
}  // namespace rwmeta::meta
