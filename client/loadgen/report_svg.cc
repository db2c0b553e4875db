// The latency/throughput plot as hand-written SVG: linear axes with round-number ticks, one line
// per percentile through the steps in sweep order (a saturated server bends the line back), a
// legend, and each point of the p99 line labelled with its step.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "client/loadgen/report.h"

namespace textclf::loadgen {
namespace {

constexpr double kWidth = 860, kHeight = 540;
constexpr double kLeft = 80, kRight = 30, kTop = 50, kBottom = 60;

// A round tick spacing (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to `max`.
double TickStep(double max, int ticks) {
  if (!(max > 0)) return 1;
  const double raw = max / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string Number(double value) {
  std::ostringstream s;
  s.precision(value != 0 && std::abs(value) < 0.1 ? 2 : 6);
  s << value;
  return s.str();
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

struct Series {
  const char* name;
  const char* color;
  double (*value)(const StepResult&);
};

const Series kSeries[] = {
    {"p50", "#1f77b4", [](const StepResult& s) { return s.latency_ms.p50; }},
    {"p90", "#ff7f0e", [](const StepResult& s) { return s.latency_ms.p90; }},
    {"p99", "#d62728", [](const StepResult& s) { return s.latency_ms.p99; }},
};

std::string PointLabel(const StepResult& s) {
  return s.mode == "open" ? Number(s.rate) + "/s" : "c=" + std::to_string(s.concurrency);
}

}  // namespace

std::string LatencyThroughputSvg(const std::vector<StepResult>& steps, const std::string& title) {
  double max_x = 0, max_y = 0;
  for (const StepResult& s : steps) {
    max_x = std::max(max_x, s.throughput_rps);
    for (const Series& series : kSeries) max_y = std::max(max_y, series.value(s));
  }
  // 5% headroom keeps the highest point off the frame.
  max_x *= 1.05;
  max_y *= 1.05;
  const double x_step = TickStep(max_x, 6), y_step = TickStep(max_y, 6);
  const double x_max = std::max(x_step, std::ceil(max_x / x_step) * x_step);
  const double y_max = std::max(y_step, std::ceil(max_y / y_step) * y_step);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + x / x_max * plot_w; };
  auto py = [&](double y) { return kTop + plot_h - y / y_max * plot_h; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << " " << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" << Escape(title)
      << "</text>\n";
  // Grid, ticks and tick labels.
  for (double x = 0; x <= x_max + x_step / 2; x += x_step) {
    svg << "<line x1=\"" << px(x) << "\" y1=\"" << kTop << "\" x2=\"" << px(x) << "\" y2=\"" << kTop + plot_h + 5
        << "\" stroke=\"#e0e0e0\"/>\n";
    svg << "<text x=\"" << px(x) << "\" y=\"" << kTop + plot_h + 20 << "\" text-anchor=\"middle\">" << Number(x)
        << "</text>\n";
  }
  for (double y = 0; y <= y_max + y_step / 2; y += y_step) {
    svg << "<line x1=\"" << kLeft - 5 << "\" y1=\"" << py(y) << "\" x2=\"" << kLeft + plot_w << "\" y2=\"" << py(y)
        << "\" stroke=\"#e0e0e0\"/>\n";
    svg << "<text x=\"" << kLeft - 8 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">" << Number(y)
        << "</text>\n";
  }
  // Axes and their labels.
  svg << "<line x1=\"" << kLeft << "\" y1=\"" << kTop + plot_h << "\" x2=\"" << kLeft + plot_w << "\" y2=\""
      << kTop + plot_h << "\" stroke=\"black\"/>\n";
  svg << "<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\"" << kTop + plot_h
      << "\" stroke=\"black\"/>\n";
  svg << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kHeight - 15
      << "\" text-anchor=\"middle\">throughput (requests/s)</text>\n";
  svg << "<text transform=\"translate(22 " << kTop + plot_h / 2
      << ") rotate(-90)\" text-anchor=\"middle\">latency (ms)</text>\n";
  // One line per percentile, in sweep order.
  for (const Series& series : kSeries) {
    svg << "<polyline fill=\"none\" stroke=\"" << series.color << "\" stroke-width=\"2\" points=\"";
    for (const StepResult& s : steps) svg << px(s.throughput_rps) << "," << py(series.value(s)) << " ";
    svg << "\"/>\n";
    for (const StepResult& s : steps) {
      svg << "<circle cx=\"" << px(s.throughput_rps) << "\" cy=\"" << py(series.value(s)) << "\" r=\"3.5\" fill=\""
          << series.color << "\"><title>" << series.name << " " << Escape(PointLabel(s)) << ": "
          << Number(series.value(s)) << " ms at " << Number(s.throughput_rps) << " req/s</title></circle>\n";
    }
  }
  for (const StepResult& s : steps) {
    // Labels near the right edge go to the left of their point so that they stay inside.
    const bool right_edge = px(s.throughput_rps) > kLeft + 0.85 * plot_w;
    svg << "<text x=\"" << px(s.throughput_rps) + (right_edge ? -6 : 6) << "\" y=\"" << py(kSeries[2].value(s)) - 6
        << "\" text-anchor=\"" << (right_edge ? "end" : "start") << "\" font-size=\"11\" fill=\"#555\">"
        << Escape(PointLabel(s)) << "</text>\n";
  }
  // Legend, top left inside the plot.
  svg << "<rect x=\"" << kLeft + 10 << "\" y=\"" << kTop + 8 << "\" width=\"80\" height=\"66\" fill=\"white\" "
      << "stroke=\"#999\"/>\n";
  for (int i = 0; i < 3; ++i) {
    const double y = kTop + 24 + i * 18;
    svg << "<line x1=\"" << kLeft + 18 << "\" y1=\"" << y << "\" x2=\"" << kLeft + 42 << "\" y2=\"" << y
        << "\" stroke=\"" << kSeries[i].color << "\" stroke-width=\"2\"/>\n";
    svg << "<text x=\"" << kLeft + 48 << "\" y=\"" << y + 4 << "\">" << kSeries[i].name << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace textclf::loadgen
