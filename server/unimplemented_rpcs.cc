// RPCs of parts of the product not built yet: each answers UNIMPLEMENTED naming what is missing.
#include "server/classifier_service.h"

namespace textclf::server {

grpc::Status ClassifierService::Quantize(grpc::ServerContext*,
                                         grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "Quantize applies to the CNN families (text_cnn, image_cnn), which are not built "
                      "into this server yet");
}

}  // namespace textclf::server
