#include "domain/catalog.hpp"

#include <algorithm>

namespace cp2::domain {

std::array<std::string, catalog_depth> catalog_levels(const vacancy& v) {
  return {v.exam, v.activity, v.venue, v.role, v.county, v.subcounty};
}

catalog::catalog(std::vector<vacancy> all, const std::map<std::string, int>& approved, unix_ms now)
    : built_at_(now) {
  auto note_change = [&](unix_ms t) {
    if (t > now && (!next_change_ || t < *next_change_)) next_change_ = t;
  };
  for (auto& v : all) {
    note_change(v.opens_at);
    note_change(v.closes_at);
    auto it = approved.find(v.code);
    int taken = it == approved.end() ? 0 : it->second;
    if (v.opens_at > now || v.closes_at <= now || taken >= v.slots) continue;
    open_.push_back(std::move(v));
  }
  std::sort(open_.begin(), open_.end(), [](const vacancy& a, const vacancy& b) {
    return a.station != b.station ? a.station < b.station : a.code < b.code;
  });
  for (std::size_t i = 0; i < open_.size(); ++i) {
    by_code_.emplace(open_[i].code, i);
    node* n = &root_;
    for (const auto& level : catalog_levels(open_[i])) n = &n->children[level];
    n->items.push_back(i);
  }
}

const catalog::node* catalog::walk(const catalog_path& path) const {
  const node* n = &root_;
  for (const auto& step : path) {
    auto it = n->children.find(step);
    if (it == n->children.end()) return nullptr;
    n = &it->second;
  }
  return n;
}

std::vector<std::string> catalog::choices(const catalog_path& path) const {
  std::vector<std::string> out;
  if (path.size() >= catalog_depth) return out;
  if (const node* n = walk(path))
    for (const auto& [name, child] : n->children) out.push_back(name);
  return out;
}

std::vector<const vacancy*> catalog::vacancies(const catalog_path& path) const {
  std::vector<const vacancy*> out;
  if (path.size() != catalog_depth) return out;
  if (const node* n = walk(path))
    for (auto i : n->items) out.push_back(&open_[i]);
  return out;
}

const vacancy* catalog::find(const std::string& code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &open_[it->second];
}

}  // namespace cp2::domain
