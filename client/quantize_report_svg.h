// Draws a Quantize report as a standalone SVG, as in the study's figure: the reliability diagram
// of the float model and every quantized variant on the left, the swapped predictions by the
// float model's confidence on the right, and a line of figures per variant below.
#pragma once

#include <string>

#include "textclf/v1/cnn.pb.h"

namespace textclf::client {

std::string RenderQuantizeReportSvg(const v1::QuantizeReport& report);

}  // namespace textclf::client
