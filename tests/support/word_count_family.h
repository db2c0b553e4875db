// A model family that lives only in the tests: multinomial naive Bayes over lower-cased words,
// with no config message of its own and no library beyond core/model. It proves that a family
// is one folder plus one line in a table: the server trains, serves and evaluates it when
// handed a table that lists it (tests/server/test_family_test.cc), and the registry and job
// tests use it as their fast, libtorch-free family.
#pragma once

#include "core/model/family.h"

namespace textclf::testing {

// An id that model.proto does not name (a proto3 enum field keeps unknown values).
inline constexpr v1::Family kWordCountFamilyId = static_cast<v1::Family>(1001);

const FamilyDescriptor* WordCountFamily();

// The word-count family alone, for registry and job tests.
const FamilyTable& WordCountOnly();

}  // namespace textclf::testing
