// Reading a server's Prometheus endpoint from a test: one plain HTTP GET over loopback, and the
// sum of the samples of a metric in what it answered.
#pragma once

#include <string>
#include <vector>

namespace textclf::testing {

// GET http://127.0.0.1:port/path; the whole HTTP response (status line, headers, body), or ""
// when nothing listens.
std::string HttpGet(int port, const std::string& path);

// The sum of every sample of `metric` in a Prometheus text exposition whose labels contain
// each of `label_matchers` (e.g. code="OK"); 0 when none.
double SumSamples(const std::string& exposition, const std::string& metric,
                  const std::vector<std::string>& label_matchers = {});

}  // namespace textclf::testing
