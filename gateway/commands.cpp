#include "gateway/commands.hpp"

#include "db/database.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "domain/vacancy.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace cp2::gateway {

int import_vacancies_command(const config::config& cfg, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "cp2-gateway: cannot read {}\n", file);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    auto db = db::open_database(cfg.db.path, cfg.db.busy_timeout);
    db::sqlite_vacancy_store store(*db);
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& c : store.counties())
      for (const auto& s : c.subcounties) pairs.emplace_back(c.name, s);
    domain::static_county_lookup counties(std::move(pairs));
    auto checked = domain::validate_vacancy_csv(text.str(), counties);
    if (!checked) {
      fmt::print(stderr, "{}: nothing imported; fix these rows and try again:\n", file);
      for (const auto& e : checked.error()) fmt::print(stderr, "  row {}: {}\n", e.row, e.error);
      return 1;
    }
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    auto counts = store.upsert(checked.value(), now);
    fmt::print("{}: imported {}, updated {}\n", file, counts.imported, counts.updated);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "cp2-gateway: import failed: {}\n", e.what());
    return 1;
  }
}

}  // namespace cp2::gateway
