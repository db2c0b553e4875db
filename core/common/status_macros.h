// Early-return helpers for absl::Status and absl::StatusOr, the error type of all of core/.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TEXTCLF_CONCAT_INNER(a, b) a##b
#define TEXTCLF_CONCAT(a, b) TEXTCLF_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status _status = (expr);           \
    if (!_status.ok()) return _status;         \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(TEXTCLF_CONCAT(_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
