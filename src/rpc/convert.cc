#include "rpc/convert.h"

#include "common/url.h"

namespace rwmeta::rpc {

void ClusterInfoToProto(const ClusterInfo& info, meta::GetClusterInfoResponse* out) {
  out->set_cluster_id(info.cluster_id);
  out->set_created_at_ms(info.created_at_ms);
  out->set_rwmeta_version(info.rwmeta_version);
  out->set_meta_store_backend(info.meta_store_backend);
  out->set_meta_store_url(RedactUrl(info.meta_store_url));
  out->set_state_store_url(RedactUrl(info.state_store_url));
  for (const ListenAddress& addr : info.listen_addresses) {
    meta::ListenAddress* pb = out->add_listen_addresses();
    pb->set_protocol(addr.protocol);
    pb->set_address(addr.address);
  }
  out->set_uptime_ms(info.uptime_ms);
  out->set_generation(info.generation);
  out->set_generation_started_at_ms(info.generation_started_at_ms);
  out->set_restored_snapshot_id(info.restored_snapshot_id);
}

ClusterInfo ClusterInfoFromProto(const meta::GetClusterInfoResponse& in) {
  ClusterInfo info;
  info.cluster_id = in.cluster_id();
  info.created_at_ms = in.created_at_ms();
  info.rwmeta_version = in.rwmeta_version();
  info.meta_store_backend = in.meta_store_backend();
  info.meta_store_url = in.meta_store_url();
  info.state_store_url = in.state_store_url();
  for (const meta::ListenAddress& pb : in.listen_addresses()) {
    info.listen_addresses.push_back(ListenAddress{pb.protocol(), pb.address()});
  }
  info.uptime_ms = in.uptime_ms();
  // Absent (a node older than generations): the first generation.
  info.generation = in.generation() == 0 ? 1 : in.generation();
  info.generation_started_at_ms = in.generation_started_at_ms();
  info.restored_snapshot_id = in.restored_snapshot_id();
  return info;
}

void ParamInfoToProto(const ParamInfo& param, meta::SystemParamEntry* out) {
  out->set_name(param.name);
  out->set_value(param.value);
  out->set_is_mutable(param.is_mutable);
  out->set_description(param.description);
}

ParamInfo ParamInfoFromProto(const meta::SystemParamEntry& in) {
  return ParamInfo{in.name(), in.value(), in.is_mutable(), in.description()};
}

}  // namespace rwmeta::rpc
