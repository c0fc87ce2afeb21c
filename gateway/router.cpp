#include "gateway/router.hpp"

namespace cp2::gateway {

void router::add(std::string method, std::string pattern, handler h, route_options options) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(h), std::move(options)});
}

bool router::match_pattern(std::string_view pattern, std::string_view path,
                           std::map<std::string, std::string>& params) {
  params.clear();
  while (true) {
    if (pattern.empty() || path.empty()) return pattern.empty() && path.empty();
    auto pcut = pattern.find('/', 1);
    auto qcut = path.find('/', 1);
    auto pseg = pattern.substr(0, pcut);
    auto qseg = path.substr(0, qcut);
    if (pseg.size() > 2 && pseg[1] == '{' && pseg.back() == '}') {
      if (qseg.size() <= 1) return false;  // a parameter is never empty
      params.emplace(std::string(pseg.substr(2, pseg.size() - 3)), std::string(qseg.substr(1)));
    } else if (pseg != qseg) {
      return false;
    }
    pattern = pcut == std::string_view::npos ? std::string_view() : pattern.substr(pcut);
    path = qcut == std::string_view::npos ? std::string_view() : path.substr(qcut);
  }
}

router::match router::find(std::string_view method, std::string_view path) const {
  match m;
  std::map<std::string, std::string> params;
  for (const auto& r : routes_) {
    if (!match_pattern(r.pattern, path, params)) continue;
    m.path_known = true;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
    if (!m.found && r.method == method) {
      m.found = &r;
      m.params = params;
    }
  }
  return m;
}

}  // namespace cp2::gateway
