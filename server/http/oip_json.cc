#include "server/http/oip_json.h"

#include <charconv>
#include <cmath>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace textclf::server::http {
namespace {

using Json = nlohmann::json;

// Nesting the readers follow: a tensor's data up to this many levels (a rank-8 tensor), and
// free-form "parameters" objects up to this depth (skipped).
constexpr int kMaxDataDepth = 8;
constexpr int kMaxSkipDepth = 32;

// abseil here has its own string_view.
absl::string_view Sv(std::string_view text) { return absl::string_view(text.data(), text.size()); }

std::string Shorten(std::string_view text) {
  return text.size() <= 64 ? std::string(text) : absl::StrCat(Sv(text.substr(0, 64)), "...");
}

// What the readers share: the SAX events they do not care about, the error they stop at, and
// the skipping of free-form objects ("parameters").
class Reader : public nlohmann::json_sax<Json> {
 public:
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." without its tag.
    std::string_view what = e.what();
    if (size_t tag_end = what.find("] "); what.substr(0, 1) == "[" && tag_end != std::string_view::npos) {
      what.remove_prefix(tag_end + 2);
    }
    return Fail(absl::StrCat("the body is not JSON: ", Sv(what)));
  }

  absl::Status Run(std::string_view body) {
    const bool parsed = Json::sax_parse(body.begin(), body.end(), this, nlohmann::detail::input_format_t::json,
                                        /*strict=*/true, /*ignore_comments=*/false);
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    if (!parsed) return absl::InvalidArgumentError("the body is not JSON");
    return absl::OkStatus();
  }

 protected:
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  // Inside a skipped value: every event is taken; containers nest up to kMaxSkipDepth.
  bool skipping() const { return skip_depth_ > 0; }
  bool EnterSkipped() {
    if (++skip_depth_ > kMaxSkipDepth) return Fail(absl::StrCat("\"parameters\" nest deeper than ", kMaxSkipDepth));
    return true;
  }
  void LeaveSkipped() { --skip_depth_; }

 private:
  std::string error_;
  int skip_depth_ = 0;
};

// POST .../infer: {"id", "parameters", "inputs": [{"name", "shape", "datatype", "parameters",
// "data"}], "outputs": [{"name", "parameters"}]}.
class InferRequestReader final : public Reader {
 public:
  explicit InferRequestReader(inference::ModelInferRequest* out) : out_(out) {}

  bool null() override { return skipping() || Unexpected("null"); }
  bool boolean(bool) override { return skipping() || Unexpected("a boolean"); }
  bool number_integer(number_integer_t v) override { return Number(static_cast<double>(v), v >= 0, v); }
  bool number_unsigned(number_unsigned_t v) override {
    return Number(static_cast<double>(v), true, v > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return Number(v, false, -1); }

  bool string(string_t& value) override {
    if (skipping()) return true;
    switch (at()) {
      case At::kTop:
        if (key_ == "id") {
          out_->set_id(std::move(value));
          return true;
        }
        break;
      case At::kInput:
        if (key_ == "name") {
          input_->set_name(std::move(value));
          return true;
        }
        if (key_ == "datatype") {
          input_->set_datatype(std::move(value));
          return true;
        }
        break;
      case At::kOutput:
        if (key_ == "name") {
          out_->mutable_outputs()->rbegin()->set_name(std::move(value));
          return true;
        }
        break;
      case At::kData:
        input_->mutable_contents()->add_bytes_contents(std::move(value));
        return true;
      default:
        break;
    }
    return Unexpected("a string");
  }

  bool start_object(std::size_t) override {
    if (skipping()) return EnterSkipped();
    switch (at()) {
      case At::kStart:
        stack_.push_back(At::kTop);
        return true;
      case At::kInputs:
        input_ = out_->add_inputs();
        numbers_.clear();
        stack_.push_back(At::kInput);
        return true;
      case At::kOutputs:
        out_->add_outputs();
        stack_.push_back(At::kOutput);
        return true;
      case At::kTop:
      case At::kInput:
      case At::kOutput:
        if (key_ == "parameters") return EnterSkipped();
        break;
      default:
        break;
    }
    return Unexpected("an object");
  }

  bool end_object() override {
    if (skipping()) {
      LeaveSkipped();
      return true;
    }
    const At done = at();
    stack_.pop_back();
    if (done == At::kInput) return FinishInput();
    return true;
  }

  bool start_array(std::size_t) override {
    if (skipping()) return EnterSkipped();
    switch (at()) {
      case At::kTop:
        if (key_ == "inputs") return Push(At::kInputs);
        if (key_ == "outputs") return Push(At::kOutputs);
        break;
      case At::kInput:
        if (key_ == "shape") return Push(At::kShape);
        if (key_ == "data") {
          data_depth_ = 1;
          return Push(At::kData);
        }
        break;
      case At::kData:
        if (++data_depth_ > kMaxDataDepth) {
          return Fail(absl::StrCat("input \"", Shorten(input_->name()), "\": \"data\" nests deeper than ",
                                   kMaxDataDepth, " levels"));
        }
        return true;
      default:
        break;
    }
    return Unexpected("an array");
  }

  bool end_array() override {
    if (skipping()) {
      LeaveSkipped();
      return true;
    }
    if (at() == At::kData && --data_depth_ > 0) return true;
    stack_.pop_back();
    return true;
  }

  bool key(string_t& name) override {
    if (skipping()) return true;
    static const std::vector<std::string_view> kTopKeys = {"id", "parameters", "inputs", "outputs"};
    static const std::vector<std::string_view> kInputKeys = {"name", "shape", "datatype", "parameters", "data"};
    static const std::vector<std::string_view> kOutputKeys = {"name", "parameters"};
    const std::vector<std::string_view>& known =
        at() == At::kTop ? kTopKeys : at() == At::kInput ? kInputKeys : kOutputKeys;
    for (std::string_view k : known) {
      if (name == k) {
        key_ = std::move(name);
        return true;
      }
    }
    const char* where = at() == At::kTop ? "the request" : at() == At::kInput ? "an input" : "an output";
    std::string listed;
    for (std::string_view k : known) absl::StrAppend(&listed, listed.empty() ? "" : ", ", "\"", Sv(k), "\"");
    return Fail(absl::StrCat("unknown key \"", Shorten(name), "\" in ", where, "; the protocol's keys are ", listed));
  }

 private:
  enum class At { kStart, kTop, kInputs, kInput, kShape, kData, kOutputs, kOutput };

  At at() const { return stack_.empty() ? At::kStart : stack_.back(); }
  bool Push(At where) {
    stack_.push_back(where);
    return true;
  }

  std::string_view Place() const {
    switch (at()) {
      case At::kStart: return "the body";
      case At::kTop: return "the request";
      case At::kInputs: return "\"inputs\"";
      case At::kShape: return "\"shape\"";
      case At::kData: return "\"data\"";
      case At::kOutputs: return "\"outputs\"";
      default: return at() == At::kInput ? "an input" : "an output";
    }
  }
  bool Unexpected(std::string_view what) {
    if (at() == At::kStart) return Fail("the body must be a JSON object, the protocol's inference request");
    const bool keyed = at() == At::kTop || at() == At::kInput || at() == At::kOutput;
    return Fail(absl::StrCat("did not expect ", Sv(what), " in ", Sv(Place()), keyed ? absl::StrCat(" at \"", key_, "\"") : ""));
  }

  // `whole` is the value as an integer when it is one and not negative, else -1.
  bool Number(double value, bool non_negative_integer, int64_t whole) {
    if (skipping()) return true;
    if (at() == At::kShape) {
      if (!non_negative_integer || whole < 0) {
        return Fail(absl::StrCat("input \"", Shorten(input_->name()), "\": shape dimensions are integers >= 0"));
      }
      input_->add_shape(whole);
      return true;
    }
    if (at() == At::kData) {
      numbers_.push_back(value);
      return true;
    }
    return Unexpected("a number");
  }

  // The numbers of the input just read, as its datatype's contents.
  bool FinishInput() {
    const std::string name = Shorten(input_->name());
    const std::string& type = input_->datatype();
    if (type.empty()) return Fail(absl::StrCat("input \"", name, "\" has no \"datatype\""));
    auto* contents = input_->mutable_contents();
    if (type == "BYTES") {
      if (!numbers_.empty()) return Fail(absl::StrCat("input \"", name, "\" is BYTES: its data are JSON strings"));
      return true;
    }
    if (type != "FP32" && type != "UINT8") {
      return Fail(absl::StrCat("input \"", name, "\" has datatype ", Shorten(type),
                               "; textclf takes BYTES (texts) and FP32 or UINT8 (images)"));
    }
    if (contents->bytes_contents_size() > 0) {
      return Fail(absl::StrCat("input \"", name, "\" is ", type, ": its data are numbers, not strings"));
    }
    if (type == "FP32") {
      contents->mutable_fp32_contents()->Reserve(static_cast<int>(numbers_.size()));
      for (double v : numbers_) contents->add_fp32_contents(static_cast<float>(v));
      return true;
    }
    contents->mutable_uint_contents()->Reserve(static_cast<int>(numbers_.size()));
    for (double v : numbers_) {
      if (!(v >= 0 && v <= 255) || v != std::floor(v)) {
        return Fail(absl::StrCat("input \"", name, "\" is UINT8: its data are integers in [0, 255]"));
      }
      contents->add_uint_contents(static_cast<uint32_t>(v));
    }
    return true;
  }

  inference::ModelInferRequest* out_;
  inference::ModelInferRequest::InferInputTensor* input_ = nullptr;
  std::vector<At> stack_;
  std::string key_;
  std::vector<double> numbers_;
  int data_depth_ = 0;
};

// POST /v1/models/NAME:classify: {"texts": [...], "version": V, "top_k": K, "all_scores": B}.
class ClassifyRequestReader final : public Reader {
 public:
  explicit ClassifyRequestReader(v1::ClassifyRequest* out) : out_(out) {}

  bool null() override { return skipping() || Unexpected("null"); }
  bool boolean(bool value) override {
    if (at_ == At::kTop && key_ == "all_scores") {
      out_->set_all_scores(value);
      return true;
    }
    return Unexpected("a boolean");
  }
  bool number_integer(number_integer_t v) override { return Integer(v >= 0 ? static_cast<uint64_t>(v) : 0, v >= 0); }
  bool number_unsigned(number_unsigned_t v) override { return Integer(v, true); }
  bool number_float(number_float_t, const string_t&) override { return Unexpected("a fraction"); }
  bool string(string_t& value) override {
    if (at_ == At::kTexts) {
      out_->add_text_strings(std::move(value));
      return true;
    }
    return Unexpected("a string");
  }
  bool start_object(std::size_t) override {
    if (at_ == At::kStart) {
      at_ = At::kTop;
      return true;
    }
    return Unexpected("an object");
  }
  bool end_object() override {
    at_ = At::kDone;
    return true;
  }
  bool start_array(std::size_t) override {
    if (at_ == At::kTop && key_ == "texts") {
      at_ = At::kTexts;
      return true;
    }
    return Unexpected("an array");
  }
  bool end_array() override {
    at_ = At::kTop;
    return true;
  }
  bool key(string_t& name) override {
    if (name == "texts" || name == "version" || name == "top_k" || name == "all_scores") {
      key_ = std::move(name);
      return true;
    }
    return Fail(absl::StrCat("unknown key \"", Shorten(name),
                             "\"; a classify request has \"texts\" (strings), \"version\", \"top_k\" and \"all_scores\""));
  }

 private:
  enum class At { kStart, kTop, kTexts, kDone };

  bool Unexpected(std::string_view what) {
    if (at_ == At::kStart) return Fail("the body must be a JSON object: {\"texts\": [\"...\"]}");
    if (at_ == At::kTexts) return Fail(absl::StrCat("\"texts\" holds strings; found ", Sv(what)));
    return Fail(absl::StrCat("did not expect ", Sv(what), " at \"", key_, "\""));
  }
  bool Integer(uint64_t value, bool non_negative) {
    if (at_ == At::kTop && (key_ == "version" || key_ == "top_k") && non_negative) {
      if (key_ == "version") {
        if (value > static_cast<uint64_t>(INT64_MAX)) return Fail("\"version\" is too large");
        out_->set_version(static_cast<int64_t>(value));
      } else {
        if (value > 1u << 20) return Fail("\"top_k\" is too large");
        out_->set_top_k(static_cast<int32_t>(value));
      }
      return true;
    }
    return Unexpected(non_negative ? "a number" : "a negative number");
  }

  v1::ClassifyRequest* out_;
  At at_ = At::kStart;
  std::string key_;
};

void AppendString(std::string* out, std::string_view text) {
  out->append(Json(text).dump(-1, ' ', false, Json::error_handler_t::replace));
}

// Shortest text that reads back as the same float.
void AppendFloat(std::string* out, float value) {
  if (!std::isfinite(value)) {
    out->append("null");  // JSON has no NaN or infinity
    return;
  }
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, ec == std::errc() ? end : buffer);
}

template <typename Items, typename Append>
void AppendArray(std::string* out, const Items& items, Append append) {
  out->push_back('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) out->push_back(',');
    first = false;
    append(item);
  }
  out->push_back(']');
}

void AppendTensorHeader(std::string* out, const std::string& name, const std::string& datatype,
                        const google::protobuf::RepeatedField<int64_t>& shape) {
  out->append("{\"name\":");
  AppendString(out, name);
  out->append(",\"datatype\":");
  AppendString(out, datatype);
  out->append(",\"shape\":");
  AppendArray(out, shape, [out](int64_t d) { absl::StrAppend(out, d); });
}

}  // namespace

absl::StatusOr<inference::ModelInferRequest> ParseInferRequest(std::string_view body, std::string_view model,
                                                               std::string_view version) {
  inference::ModelInferRequest request;
  InferRequestReader reader(&request);
  if (absl::Status s = reader.Run(body); !s.ok()) return s;
  request.set_model_name(std::string(model));
  request.set_model_version(std::string(version));
  return request;
}

std::string InferResponseJson(const inference::ModelInferResponse& response) {
  std::string out = "{\"model_name\":";
  AppendString(&out, response.model_name());
  out.append(",\"model_version\":");
  AppendString(&out, response.model_version());
  if (!response.id().empty()) {
    out.append(",\"id\":");
    AppendString(&out, response.id());
  }
  out.append(",\"outputs\":");
  AppendArray(&out, response.outputs(), [&out](const inference::ModelInferResponse::InferOutputTensor& tensor) {
    AppendTensorHeader(&out, tensor.name(), tensor.datatype(), tensor.shape());
    out.append(",\"data\":");
    if (tensor.datatype() == "BYTES") {
      AppendArray(&out, tensor.contents().bytes_contents(), [&out](const std::string& s) { AppendString(&out, s); });
    } else {
      AppendArray(&out, tensor.contents().fp32_contents(), [&out](float v) { AppendFloat(&out, v); });
    }
    out.push_back('}');
  });
  out.push_back('}');
  return out;
}

absl::StatusOr<v1::ClassifyRequest> ParseClassifyRequest(std::string_view body, std::string_view model) {
  v1::ClassifyRequest request;
  ClassifyRequestReader reader(&request);
  if (absl::Status s = reader.Run(body); !s.ok()) return s;
  request.set_model(std::string(model));
  return request;
}

std::string ClassifyResponseJson(const v1::ClassifyResponse& response) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a message built here cannot fail; an empty object is the fallback all the same.
  if (!google::protobuf::util::MessageToJsonString(response, &out, options).ok()) return "{}";
  return out;
}

std::string ModelMetadataJson(const inference::ModelMetadataResponse& metadata) {
  std::string out = "{\"name\":";
  AppendString(&out, metadata.name());
  out.append(",\"versions\":");
  AppendArray(&out, metadata.versions(), [&out](const std::string& v) { AppendString(&out, v); });
  out.append(",\"platform\":");
  AppendString(&out, metadata.platform());
  auto tensors = [&out](const auto& list) {
    AppendArray(&out, list, [&out](const inference::ModelMetadataResponse::TensorMetadata& t) {
      AppendTensorHeader(&out, t.name(), t.datatype(), t.shape());
      out.push_back('}');
    });
  };
  out.append(",\"inputs\":");
  tensors(metadata.inputs());
  out.append(",\"outputs\":");
  tensors(metadata.outputs());
  // textclf's extension, as in the gRPC response: the classes, in the probabilities' order.
  out.append(",\"classes\":");
  AppendArray(&out, metadata.classes(), [&out](const std::string& c) { AppendString(&out, c); });
  out.push_back('}');
  return out;
}

std::string ServerMetadataJson(const inference::ServerMetadataResponse& metadata) {
  std::string out = "{\"name\":";
  AppendString(&out, metadata.name());
  out.append(",\"version\":");
  AppendString(&out, metadata.version());
  out.append(",\"extensions\":");
  AppendArray(&out, metadata.extensions(), [&out](const std::string& e) { AppendString(&out, e); });
  out.push_back('}');
  return out;
}

std::string ErrorJson(std::string_view message) {
  std::string out = "{\"error\":";
  AppendString(&out, message);
  out.push_back('}');
  return out;
}

}  // namespace textclf::server::http
