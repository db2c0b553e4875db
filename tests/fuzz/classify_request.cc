// Fuzzes a Classify request as the server checks it before any model sees it: the message parsed
// from the input bytes, then ValidateRequest with the default limits.
#include <cstddef>
#include <cstdint>

#include "server/request_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  textclf::v1::ClassifyRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  textclf::v1::ServerLimits limits;
  limits.set_max_texts_per_request(4096);
  limits.set_max_text_bytes(65536);
  (void)textclf::server::ValidateRequest(request, limits);
  return 0;
}
