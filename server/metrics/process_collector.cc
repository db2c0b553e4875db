#include "server/metrics/process_collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace textclf::server {
namespace {

prometheus::MetricFamily Single(const std::string& name, const std::string& help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

struct Stat {
  double cpu_seconds = 0;
  double start_time_seconds = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double threads = 0;
};

// /proc/self/stat: fields 14 and 15 are user and system time in clock ticks, 20 the thread count,
// 22 the start time in ticks after boot, 23 the virtual size, 24 the resident pages. Field 2 (the
// command) is in parentheses and may hold spaces, so fields are counted after its closing one.
Stat ReadStat() {
  Stat stat;
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return stat;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; fields >> field;) f.push_back(field);
  // f[0] is field 3 (state).
  auto at = [&](int field) { return static_cast<size_t>(field - 3) < f.size() ? std::stod(f[field - 3]) : 0.0; };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  stat.cpu_seconds = (at(14) + at(15)) / ticks;
  stat.threads = at(20);
  stat.virtual_bytes = at(23);
  stat.resident_bytes = at(24) * static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream uptime_in("/proc/stat");
  for (std::string key; uptime_in >> key;) {
    if (key == "btime") {
      double boot = 0;
      uptime_in >> boot;
      stat.start_time_seconds = boot + at(22) / ticks;
      break;
    }
  }
  return stat;
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  const Stat stat = ReadStat();
  struct rlimit limit {};
  getrlimit(RLIMIT_NOFILE, &limit);
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                       MetricType::Counter, stat.cpu_seconds));
  out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                       stat.resident_bytes));
  out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                       stat.virtual_bytes));
  out.push_back(Single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, OpenFds()));
  out.push_back(Single("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                       static_cast<double>(limit.rlim_cur)));
  out.push_back(Single("process_threads", "Number of OS threads in the process.", MetricType::Gauge, stat.threads));
  out.push_back(Single("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                       MetricType::Gauge, stat.start_time_seconds));
  prometheus::MetricFamily build = Single("textclf_build_info", "Always 1; the labels name the running build.",
                                          MetricType::Gauge, 1);
  build.metric[0].label.push_back({"version", version_});
  out.push_back(std::move(build));
  return out;
}

}  // namespace textclf::server
