// The process's own series, read from /proc at each scrape (Prometheus's standard process_*
// names, as its client libraries for other languages export them), and textclf_build_info.
#pragma once

#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace textclf::server {

class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string version) : version_(std::move(version)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string version_;
};

}  // namespace textclf::server
