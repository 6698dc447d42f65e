// Status helpers shared by every part.
//
// Every module boundary returns absl::Status or absl::StatusOr<T>; no exception
// crosses a part. This Abseil version (20220623) has no RETURN_IF_ERROR, so
// we define the two small macros every caller needs.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CASENODE_CONCAT_INNER_(a, b) a##b
#define CASENODE_CONCAT_(a, b) CASENODE_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status _casenode_status = (expr);      \
    if (!_casenode_status.ok()) return _casenode_status; \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CASENODE_CONCAT_(_casenode_or_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
