#include "bench/process_footprint.h"

#include <fstream>
#include <string>

namespace textclf::bench {

Footprint ProcessFootprint() {
  std::ifstream in("/proc/self/status");
  Footprint out;
  double rss_kb = 0;
  for (std::string key; in >> key;) {
    if (key == "VmRSS:") in >> rss_kb;
    if (key == "Threads:") in >> out.threads;
  }
  out.resident_mib = rss_kb / 1024.0;
  return out;
}

}  // namespace textclf::bench
