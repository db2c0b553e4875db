#include "client/quantize_report_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace textclf::client {
namespace {

constexpr double kPanel = 340;  // plot side, pixels
constexpr double kLeftX = 70, kRightX = 560, kTop = 70;
const char* const kColours[] = {"#222222", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"};

std::string Num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

std::string Pct(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100 * v);
  return buffer;
}

std::string Fixed3(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

void Text(std::string* svg, double x, double y, const std::string& s, const char* anchor = "start", int size = 12,
          const char* extra = "") {
  *svg += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" font-size=\"" + std::to_string(size) +
          "\" text-anchor=\"" + anchor + "\" " + extra + ">" + Escape(s) + "</text>\n";
}

void Line(std::string* svg, double x1, double y1, double x2, double y2, const char* stroke, const char* extra = "") {
  *svg += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" + Num(y2) +
          "\" stroke=\"" + stroke + "\" " + extra + "/>\n";
}

// Axes with ticks at 0, 0.2, ..., 1 (y as a fraction of y_max) and labels.
void Axes(std::string* svg, double x0, double y_max, const std::string& x_label, const std::string& y_label,
          bool y_percent) {
  const double bottom = kTop + kPanel;
  Line(svg, x0, bottom, x0 + kPanel, bottom, "#000");
  Line(svg, x0, kTop, x0, bottom, "#000");
  for (int i = 0; i <= 5; ++i) {
    const double f = i / 5.0;
    Line(svg, x0 + f * kPanel, bottom, x0 + f * kPanel, bottom + 5, "#000");
    Text(svg, x0 + f * kPanel, bottom + 18, Num(f).substr(0, 3), "middle", 11);
    Line(svg, x0 - 5, bottom - f * kPanel, x0, bottom - f * kPanel, "#000");
    Line(svg, x0, bottom - f * kPanel, x0 + kPanel, bottom - f * kPanel, "#eee");
    Text(svg, x0 - 8, bottom - f * kPanel + 4, y_percent ? Pct(f * y_max) : Fixed3(f * y_max).substr(0, 3), "end", 11);
  }
  Text(svg, x0 + kPanel / 2, bottom + 36, x_label, "middle", 12);
  *svg += "<text x=\"" + Num(x0 - 48) + "\" y=\"" + Num(kTop + kPanel / 2) + "\" font-size=\"12\" text-anchor=\"middle\" "
          "transform=\"rotate(-90 " + Num(x0 - 48) + " " + Num(kTop + kPanel / 2) + ")\">" + Escape(y_label) + "</text>\n";
}

}  // namespace

std::string RenderQuantizeReportSvg(const v1::QuantizeReport& report) {
  std::vector<const v1::VariantReport*> all = {&report.float_model()};
  for (const auto& v : report.variants()) all.push_back(&v);
  const double height = kTop + kPanel + 70 + 18.0 * static_cast<double>(all.size());
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"980\" height=\"" + Num(height) +
                    "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  Text(&svg, 490, 22,
       report.source_model() + " version " + std::to_string(report.source_version()) + ": post-training quantization on " +
           std::to_string(report.eval_examples()) + " examples (" + report.dataset() + ")",
       "middle", 15, "font-weight=\"bold\"");

  // Left: reliability diagram (accuracy against mean confidence per bin, temperature 1).
  Text(&svg, kLeftX + kPanel / 2, kTop - 12, "Reliability (before temperature scaling)", "middle", 13);
  Axes(&svg, kLeftX, 1.0, "confidence", "accuracy", false);
  Line(&svg, kLeftX, kTop + kPanel, kLeftX + kPanel, kTop, "#999", "stroke-dasharray=\"4 4\"");
  for (size_t v = 0; v < all.size(); ++v) {
    const char* colour = kColours[v % 8];
    std::string points;
    for (const auto& bin : all[v]->reliability()) {
      if (bin.count() == 0) continue;
      const double x = kLeftX + bin.mean_confidence() * kPanel, y = kTop + kPanel - bin.accuracy() * kPanel;
      points += Num(x) + "," + Num(y) + " ";
      svg += "<circle cx=\"" + Num(x) + "\" cy=\"" + Num(y) + "\" r=\"3\" fill=\"" + colour + "\"/>\n";
    }
    svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(colour) + "\" points=\"" + points + "\"/>\n";
  }

  // Right: swap rate per bucket of float confidence, one bar per quantized variant, over the
  // share of examples in each bucket (grey).
  Text(&svg, kRightX + kPanel / 2, kTop - 12, "Swapped predictions by float confidence", "middle", 13);
  double y_max = 0.05;
  for (const auto& v : report.variants()) {
    for (const auto& b : v.swaps_by_confidence()) y_max = std::max(y_max, b.swap_rate());
  }
  int64_t total = 0;
  for (const auto& b : report.variants_size() > 0 ? report.variants(0).swaps_by_confidence()
                                                   : google::protobuf::RepeatedPtrField<v1::SwapBucket>()) {
    total += b.count();
  }
  y_max = std::min(1.0, std::ceil(y_max * 10 + 0.5) / 10);
  Axes(&svg, kRightX, y_max, "float model confidence", "swap rate", true);
  const double bucket_width = kPanel / 10;
  if (report.variants_size() > 0 && total > 0) {
    for (int b = 0; b < report.variants(0).swaps_by_confidence_size(); ++b) {
      const double share = static_cast<double>(report.variants(0).swaps_by_confidence(b).count()) / total;
      const double h = std::min(1.0, share) * kPanel;
      svg += "<rect x=\"" + Num(kRightX + b * bucket_width + 1) + "\" y=\"" + Num(kTop + kPanel - h) + "\" width=\"" +
             Num(bucket_width - 2) + "\" height=\"" + Num(h) + "\" fill=\"#ddd\"/>\n";
    }
  }
  const double bar = (bucket_width - 4) / std::max(1, report.variants_size());
  for (int v = 0; v < report.variants_size(); ++v) {
    for (int b = 0; b < report.variants(v).swaps_by_confidence_size(); ++b) {
      const v1::SwapBucket& bucket = report.variants(v).swaps_by_confidence(b);
      const double h = bucket.swap_rate() / y_max * kPanel;
      svg += "<rect x=\"" + Num(kRightX + b * bucket_width + 2 + v * bar) + "\" y=\"" + Num(kTop + kPanel - h) +
             "\" width=\"" + Num(bar) + "\" height=\"" + Num(h) + "\" fill=\"" + kColours[(v + 1) % 8] + "\"><title>" +
             Escape(report.variants(v).label()) + ": " + std::to_string(bucket.swapped()) + " of " +
             std::to_string(bucket.count()) + " swapped</title></rect>\n";
    }
  }
  Text(&svg, kRightX + kPanel - 4, kTop + 14, "grey: share of examples (of 100%)", "end", 10, "fill=\"#777\"");

  // Legend and figures.
  double y = kTop + kPanel + 62;
  for (size_t v = 0; v < all.size(); ++v) {
    const v1::VariantReport& r = *all[v];
    svg += "<rect x=\"" + Num(kLeftX) + "\" y=\"" + Num(y - 10) + "\" width=\"12\" height=\"12\" fill=\"" + kColours[v % 8] + "\"/>\n";
    std::string line = r.label() + (r.version() > 0 ? " (v" + std::to_string(r.version()) + ")" : "") + ":  top-1 " +
                       Pct(r.top1());
    if (r.has_top5()) line += ", top-5 " + Pct(r.top5());
    line += ", NLL " + Fixed3(r.nll()) + ", ECE " + Fixed3(r.ece()) + " -> " + Fixed3(r.ece_after_temperature()) +
            " after temperature " + Fixed3(r.temperature());
    if (v > 0) line += ", swapped " + Pct(r.swap_rate()) + ", file " + Pct(r.file_fraction()) + " of float";
    Text(&svg, kLeftX + 20, y, line, "start", 12);
    y += 18;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace textclf::client
