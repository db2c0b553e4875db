// RPCs of parts of the product not built yet: each answers UNIMPLEMENTED naming what is missing.
#include "server/classifier_service.h"

namespace textclf::server {

grpc::Status ClassifierService::Quantize(grpc::ServerContext*,
                                         grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "Quantize applies to the CNN families (text_cnn, image_cnn), which are not built "
                      "into this server yet");
}

grpc::Status ClassifierService::Feedback(grpc::ServerContext*, const v1::FeedbackRequest*,
                                         v1::FeedbackResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "Feedback needs the online accuracy metrics of the serving runtime, not built yet");
}

grpc::Status ClassifierService::ModelStatistics(grpc::ServerContext*, const v1::ModelStatisticsRequest*,
                                                v1::ModelStatisticsResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "ModelStatistics needs the serving runtime's metrics, not built yet");
}

}  // namespace textclf::server
