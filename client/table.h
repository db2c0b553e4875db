// Plain aligned text tables for human-readable output.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace textclf::client {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// A number with `digits` decimals.
std::string Fixed(double value, int digits);

}  // namespace textclf::client
