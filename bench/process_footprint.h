// What this process holds now, from /proc/self/status: for benches that watch the server they
// run in process (its memory and threads under load).
#pragma once

namespace textclf::bench {

struct Footprint {
  double resident_mib = 0;  // VmRSS
  int threads = 0;
};

Footprint ProcessFootprint();

}  // namespace textclf::bench
