// The latency/throughput plot as hand-written SVG. Latency spans decades between a light step
// and a saturated one (0.3 ms to 300 ms), so its axis is logarithmic with 1-2-5 ticks; a linear
// one left every step but the last flat on the floor. Throughput is linear, from zero unless the
// steps all lie far from it. One line per percentile goes through the steps in sweep order (a
// saturated server bends it back), each p99 point names its step, and a table beside the plot
// gives every step's numbers, so nothing needs hovering to be read.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "client/loadgen/gates.h"
#include "client/loadgen/report.h"
#include "client/table.h"

namespace textclf::loadgen {
namespace {

constexpr double kPlotLeft = 80, kPlotTop = 70, kPlotWidth = 560, kPlotHeight = 400;
constexpr double kTableLeft = kPlotLeft + kPlotWidth + 40, kRowHeight = 18;
constexpr double kTableColumns[] = {0, 115, 190, 245, 300, 370};  // step, ok req/s, p50, p90, p99, error %
constexpr double kWidth = kTableLeft + 430;

// A round tick spacing (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`.
double TickStep(double span, int ticks) {
  if (!(span > 0)) return 1;
  const double raw = span / ticks;
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

// Milliseconds with three significant digits or so: 0.412, 4.12, 41.2, 412.
std::string Ms(double ms) {
  const int digits = ms < 1 ? 3 : ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return client::Fixed(ms, digits);
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

// A step without a successful request has no latency to draw.
bool Drawn(const StepResult& s) { return s.latency_ms.count > 0; }

// The axes' ranges and the mapping from data to the page.
struct Axes {
  double x_min = 0, x_max = 1, x_step = 1;  // linear, requests per second
  double y_min = 1, y_max = 10;             // logarithmic, milliseconds: powers of ten

  double X(double rps) const { return kPlotLeft + (rps - x_min) / (x_max - x_min) * kPlotWidth; }
  double Y(double ms) const {
    const double clamped = std::clamp(ms, y_min, y_max);
    return kPlotTop + kPlotHeight -
           (std::log10(clamped) - std::log10(y_min)) / (std::log10(y_max) - std::log10(y_min)) * kPlotHeight;
  }
};

Axes FitAxes(const std::vector<StepResult>& steps) {
  double lo_x = 0, hi_x = 0, lo_y = 0, hi_y = 0;
  bool any = false;
  for (const StepResult& s : steps) {
    if (!Drawn(s)) continue;
    lo_x = any ? std::min(lo_x, s.throughput_rps) : s.throughput_rps;
    hi_x = std::max(hi_x, s.throughput_rps);
    for (const Series& series : kSeries) {
      const double v = series.value(s);
      if (!(v > 0)) continue;
      lo_y = lo_y > 0 ? std::min(lo_y, v) : v;
      hi_y = std::max(hi_y, v);
    }
    any = true;
  }
  Axes a;
  // Throughput from zero shows how far each step is from idle; when every step lies in the top
  // half, the axis starts at a round number below the lowest so the points spread out.
  const double start = lo_x > 0.5 * hi_x && hi_x - lo_x > 0.05 * hi_x ? lo_x : 0;
  a.x_step = TickStep((hi_x - start) * 1.05, 6);
  a.x_min = std::floor(start / a.x_step) * a.x_step;
  a.x_max = std::max(a.x_min + a.x_step, std::ceil((hi_x * 1.02) / a.x_step) * a.x_step);
  if (lo_y > 0) {
    a.y_min = std::pow(10.0, std::floor(std::log10(lo_y)));
    a.y_max = std::pow(10.0, std::ceil(std::log10(hi_y)));
    if (a.y_max <= a.y_min) a.y_max = a.y_min * 10;
  }
  return a;
}

void DrawGrid(const Axes& a, std::ostringstream& svg) {
  const double bottom = kPlotTop + kPlotHeight;
  for (double x = a.x_min; x <= a.x_max + a.x_step / 2; x += a.x_step) {
    svg << "<line x1=\"" << a.X(x) << "\" y1=\"" << kPlotTop << "\" x2=\"" << a.X(x) << "\" y2=\"" << bottom + 5
        << "\" stroke=\"#e0e0e0\"/>\n";
    svg << "<text x=\"" << a.X(x) << "\" y=\"" << bottom + 20 << "\" text-anchor=\"middle\">" << Number(x)
        << "</text>\n";
  }
  // 1-2-5 ticks per decade; over more than four decades only the powers of ten are labelled.
  const bool crowded = std::log10(a.y_max / a.y_min) > 4;
  for (double decade = a.y_min; decade < a.y_max * 1.001; decade *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double y = decade * m;
      if (y > a.y_max * 1.001) break;
      const bool labelled = m == 1 || !crowded;
      svg << "<line x1=\"" << kPlotLeft - (labelled ? 5 : 0) << "\" y1=\"" << a.Y(y) << "\" x2=\""
          << kPlotLeft + kPlotWidth << "\" y2=\"" << a.Y(y) << "\" stroke=\"" << (m == 1 ? "#c8c8c8" : "#ececec")
          << "\"/>\n";
      if (labelled) {
        svg << "<text x=\"" << kPlotLeft - 8 << "\" y=\"" << a.Y(y) + 4 << "\" text-anchor=\"end\">" << Number(y)
            << "</text>\n";
      }
    }
  }
  svg << "<line x1=\"" << kPlotLeft << "\" y1=\"" << bottom << "\" x2=\"" << kPlotLeft + kPlotWidth << "\" y2=\""
      << bottom << "\" stroke=\"black\"/>\n";
  svg << "<line x1=\"" << kPlotLeft << "\" y1=\"" << kPlotTop << "\" x2=\"" << kPlotLeft << "\" y2=\"" << bottom
      << "\" stroke=\"black\"/>\n";
  svg << "<text x=\"" << kPlotLeft + kPlotWidth / 2 << "\" y=\"" << bottom + 45
      << "\" text-anchor=\"middle\">throughput (successful requests/s)</text>\n";
  svg << "<text transform=\"translate(22 " << kPlotTop + kPlotHeight / 2
      << ") rotate(-90)\" text-anchor=\"middle\">latency (ms, log scale)</text>\n";
}

void DrawSeries(const std::vector<StepResult>& steps, const Axes& a, std::ostringstream& svg) {
  for (const Series& series : kSeries) {
    svg << "<polyline fill=\"none\" stroke=\"" << series.color << "\" stroke-width=\"2\" points=\"";
    for (const StepResult& s : steps) {
      if (Drawn(s)) svg << a.X(s.throughput_rps) << "," << a.Y(series.value(s)) << " ";
    }
    svg << "\"/>\n";
    for (const StepResult& s : steps) {
      if (!Drawn(s)) continue;
      svg << "<circle cx=\"" << a.X(s.throughput_rps) << "\" cy=\"" << a.Y(series.value(s)) << "\" r=\"3.5\" fill=\""
          << series.color << "\"><title>" << series.name << " " << Escape(PointLabel(s)) << ": "
          << Ms(series.value(s)) << " ms at " << Number(s.throughput_rps) << " req/s</title></circle>\n";
    }
  }
  for (const StepResult& s : steps) {
    if (!Drawn(s)) continue;
    // Labels near the right edge go to the left of their point so that they stay inside.
    const bool right_edge = a.X(s.throughput_rps) > kPlotLeft + 0.85 * kPlotWidth;
    svg << "<text x=\"" << a.X(s.throughput_rps) + (right_edge ? -6 : 6) << "\" y=\""
        << a.Y(kSeries[2].value(s)) - 6 << "\" text-anchor=\"" << (right_edge ? "end" : "start")
        << "\" font-size=\"11\" fill=\"#555\">" << Escape(PointLabel(s)) << "</text>\n";
  }
}

// The numbers of every step beside the plot; its header doubles as the legend.
void DrawTable(const std::vector<StepResult>& steps, std::ostringstream& svg) {
  auto cell = [&](int column, double y, const std::string& text, const char* color = "#222") {
    svg << "<text x=\"" << kTableLeft + kTableColumns[column] + (column == 0 ? 0 : 40) << "\" y=\"" << y
        << "\" text-anchor=\"" << (column == 0 ? "start" : "end") << "\" fill=\"" << color << "\">" << Escape(text)
        << "</text>\n";
  };
  double y = kPlotTop + 12;
  svg << "<g font-size=\"12\">\n";
  cell(0, y, "step");
  cell(1, y, "ok req/s");
  for (int i = 0; i < 3; ++i) {
    const double right = kTableLeft + kTableColumns[2 + i] + 40;
    svg << "<line x1=\"" << right - 44 << "\" y1=\"" << y - 4 << "\" x2=\"" << right - 30 << "\" y2=\"" << y - 4
        << "\" stroke=\"" << kSeries[i].color << "\" stroke-width=\"3\"/>\n";
    cell(2 + i, y, kSeries[i].name, kSeries[i].color);
  }
  cell(5, y, "error %");
  svg << "<line x1=\"" << kTableLeft << "\" y1=\"" << y + 6 << "\" x2=\"" << kTableLeft + kTableColumns[5] + 40
      << "\" y2=\"" << y + 6 << "\" stroke=\"#999\"/>\n";
  for (const StepResult& s : steps) {
    y += kRowHeight;
    cell(0, y, StepName(s));
    cell(1, y, client::Fixed(s.throughput_rps, s.throughput_rps < 100 ? 1 : 0));
    for (int i = 0; i < 3; ++i) cell(2 + i, y, Drawn(s) ? Ms(kSeries[i].value(s)) : "-");
    cell(5, y, client::Fixed(100 * s.error_rate, s.error_rate > 0 && s.error_rate < 0.001 ? 3 : 1),
         s.error_rate > 0 ? "#d62728" : "#222");
  }
  y += kRowHeight * 1.5;
  svg << "<text x=\"" << kTableLeft << "\" y=\"" << y << "\" fill=\"#555\" font-size=\"11\">"
      << "latencies in ms, successful requests only</text>\n";
  svg << "</g>\n";
}

}  // namespace

std::string LatencyThroughputSvg(const std::vector<StepResult>& steps, const std::string& title) {
  const Axes axes = FitAxes(steps);
  const double table_bottom = kPlotTop + 12 + kRowHeight * (steps.size() + 2.5);
  const double height = std::max(kPlotTop + kPlotHeight + 70, table_bottom + 20);
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << kWidth << " " << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"30\" text-anchor=\"middle\" font-size=\"16\">" << Escape(title)
      << "</text>\n";
  DrawGrid(axes, svg);
  DrawSeries(steps, axes, svg);
  if (std::none_of(steps.begin(), steps.end(), Drawn)) {
    svg << "<text x=\"" << kPlotLeft + kPlotWidth / 2 << "\" y=\"" << kPlotTop + kPlotHeight / 2
        << "\" text-anchor=\"middle\" fill=\"#d62728\">no step had a successful request: see the errors</text>\n";
  }
  DrawTable(steps, svg);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace textclf::loadgen
