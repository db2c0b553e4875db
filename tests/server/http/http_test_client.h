// What the HTTP port's tests share: a server with the port on, JSON requests and answers, and
// the comparison of an inference answer with Classify's.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "tests/server/server_test_support.h"

namespace textclf::testing {

using Json = nlohmann::json;

inline constexpr char kJsonType[] = "application/json";

// Starts a server on `models` with the HTTP port on.
inline std::unique_ptr<TestServer> StartWithHttp(const std::filesystem::path& models,
                                                 const std::function<void(v1::ServerConfig&)>& adjust = {}) {
  return TestServer::Start(models, [&](v1::ServerConfig& c) {
    c.set_http_port(0);
    c.set_http_threads(8);
    if (adjust) adjust(c);
  });
}

struct HttpAnswer {
  int status = 0;
  Json body;
};

inline HttpAnswer Answer(const httplib::Result& result) {
  HttpAnswer answer;
  if (!result) {
    ADD_FAILURE() << "no HTTP answer: " << httplib::to_string(result.error());
    return answer;
  }
  answer.status = result->status;
  answer.body = Json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(answer.body.is_discarded()) << "not JSON: " << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), kJsonType);
  return answer;
}

// httplib::Client or httplib::SSLClient.
template <typename Client>
HttpAnswer Post(Client& client, const std::string& path, const std::string& body) {
  return Answer(client.Post(path, body, kJsonType));
}

template <typename Client>
HttpAnswer Get(Client& client, const std::string& path) { return Answer(client.Get(path)); }

inline Json TextInferBody(const std::vector<std::string>& texts, bool nested) {
  Json data = Json::array();
  for (const std::string& t : texts) data.push_back(nested ? Json::array({t}) : Json(t));
  Json shape = nested ? Json::array({texts.size(), 1}) : Json::array({texts.size()});
  return Json{{"id", "req-42"},
              {"inputs", Json::array({{{"name", "text"}, {"shape", shape}, {"datatype", "BYTES"}, {"data", data}}})},
              {"outputs", Json::array({{{"name", "label"}}, {{"name", "probability"}}, {{"name", "probabilities"}}})}};
}

inline const Json* Output(const Json& response, const std::string& name) {
  for (const Json& o : response["outputs"]) {
    if (o["name"] == name) return &o;
  }
  return nullptr;
}

// An infer answer agrees with Classify's predictions (run with all_scores) label by label and
// probability by probability.
inline void ExpectSamePredictions(const Json& infer, const v1::ClassifyResponse& native) {
  const Json* label = Output(infer, "label");
  const Json* probability = Output(infer, "probability");
  const Json* probabilities = Output(infer, "probabilities");
  ASSERT_TRUE(label && probability && probabilities) << infer.dump();
  const size_t n = static_cast<size_t>(native.predictions_size());
  ASSERT_EQ((*label)["data"].size(), n);
  EXPECT_EQ((*label)["datatype"], "BYTES");
  EXPECT_EQ((*probability)["datatype"], "FP32");
  const size_t classes = static_cast<size_t>(native.predictions(0).all_scores_size());
  EXPECT_EQ((*probabilities)["shape"], Json::array({n, classes}));
  for (size_t i = 0; i < n; ++i) {
    const v1::Prediction& p = native.predictions(static_cast<int>(i));
    EXPECT_EQ((*label)["data"][i], p.label()) << i;
    EXPECT_FLOAT_EQ((*probability)["data"][i].get<float>(), p.confidence()) << i;
    for (size_t c = 0; c < classes; ++c) {
      EXPECT_FLOAT_EQ((*probabilities)["data"][i * classes + c].get<float>(),
                      p.all_scores(static_cast<int>(c)).probability());
    }
  }
}

}  // namespace textclf::testing
