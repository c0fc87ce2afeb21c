#include "db/sqlite_vacancy_store.hpp"

#include "db/transaction.hpp"

#include <SQLiteCpp/Statement.h>

namespace cp2::db {
namespace {

constexpr const char* vacancy_columns =
    "code, exam, activity, venue, role, county, subcounty, station, slots, description, opens_at, "
    "closes_at";

domain::vacancy read_vacancy(SQLite::Statement& q) {
  domain::vacancy v;
  v.code = q.getColumn(0).getString();
  v.exam = q.getColumn(1).getString();
  v.activity = q.getColumn(2).getString();
  v.venue = q.getColumn(3).getString();
  v.role = q.getColumn(4).getString();
  v.county = q.getColumn(5).getString();
  v.subcounty = q.getColumn(6).getString();
  v.station = q.getColumn(7).getString();
  v.slots = q.getColumn(8).getInt();
  v.description = q.getColumn(9).getString();
  v.opens_at = q.getColumn(10).getInt64();
  v.closes_at = q.getColumn(11).getInt64();
  return v;
}

}  // namespace

import_counts sqlite_vacancy_store::upsert(const std::vector<domain::vacancy>& all,
                                           domain::unix_ms now) {
  import_counts counts;
  in_transaction(db_, stmts_, [&] {
    auto exists_lease = stmts_.use("SELECT 1 FROM vacancies WHERE code = ?");
    auto& exists = *exists_lease;
    auto q_lease = stmts_.use(R"sql(
INSERT INTO vacancies (code, exam, activity, venue, role, county, subcounty, station, slots,
                       description, opens_at, closes_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (code) DO UPDATE SET exam = excluded.exam, activity = excluded.activity,
  venue = excluded.venue, role = excluded.role, county = excluded.county,
  subcounty = excluded.subcounty, station = excluded.station, slots = excluded.slots,
  description = excluded.description, opens_at = excluded.opens_at,
  closes_at = excluded.closes_at, updated_at = excluded.updated_at)sql");
    auto& q = *q_lease;
    for (const auto& v : all) {
      exists.bind(1, v.code);
      bool known = exists.executeStep();
      exists.reset();
      (known ? counts.updated : counts.imported)++;
      int i = 0;
      for (const auto* text : {&v.code, &v.exam, &v.activity, &v.venue, &v.role, &v.county,
                               &v.subcounty, &v.station})
        q.bind(++i, *text);
      q.bind(++i, v.slots);
      q.bind(++i, v.description);
      q.bind(++i, static_cast<std::int64_t>(v.opens_at));
      q.bind(++i, static_cast<std::int64_t>(v.closes_at));
      q.bind(++i, static_cast<std::int64_t>(now));
      q.bind(++i, static_cast<std::int64_t>(now));
      q.exec();
      q.reset();
    }
  });
  return counts;
}

std::optional<domain::vacancy> sqlite_vacancy_store::find(const std::string& code) {
  auto q_lease = stmts_.use(std::string("SELECT ") + vacancy_columns + " FROM vacancies WHERE code = ?");
  auto& q = *q_lease;
  q.bind(1, code);
  if (!q.executeStep()) return std::nullopt;
  return read_vacancy(q);
}

std::optional<std::pair<domain::vacancy, int>> sqlite_vacancy_store::find_with_approved(
    const std::string& code) {
  static const std::string sql = std::string("SELECT ") + vacancy_columns +
                                 ", (SELECT count(*) FROM applications a WHERE a.vacancy = ?1 AND "
                                 "a.status = 'approved') FROM vacancies WHERE code = ?1";
  auto q = stmts_.use(sql);
  q->bind(1, code);
  if (!q->executeStep()) return std::nullopt;
  return std::pair{read_vacancy(*q), q->getColumn(12).getInt()};
}

std::vector<domain::vacancy> sqlite_vacancy_store::all() {
  auto q_lease = stmts_.use(std::string("SELECT ") + vacancy_columns + " FROM vacancies");
  auto& q = *q_lease;
  std::vector<domain::vacancy> out;
  while (q.executeStep()) out.push_back(read_vacancy(q));
  return out;
}

std::map<std::string, int> sqlite_vacancy_store::approved_counts() {
  auto q_lease = stmts_.use("SELECT vacancy, count(*) FROM applications WHERE status = 'approved' GROUP BY vacancy");
  auto& q = *q_lease;
  std::map<std::string, int> out;
  while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt();
  return out;
}

std::vector<domain::county_entry> sqlite_vacancy_store::counties() {
  auto q_lease = stmts_.use("SELECT c.name, s.name FROM counties c LEFT JOIN subcounties s ON s.county = c.name "
                            "ORDER BY c.position, s.position");
  auto& q = *q_lease;
  std::vector<domain::county_entry> out;
  while (q.executeStep()) {
    auto county = q.getColumn(0).getString();
    if (out.empty() || out.back().name != county) out.push_back({county, {}});
    if (!q.getColumn(1).isNull()) out.back().subcounties.push_back(q.getColumn(1).getString());
  }
  return out;
}

std::vector<vacancy_listing> sqlite_vacancy_store::list(const vacancy_filter& f, domain::unix_ms now) {
  std::string sql = std::string("SELECT ") + vacancy_columns +
                    ", (SELECT count(*) FROM applications a WHERE a.vacancy = v.code AND a.status IN "
                    "('submitted','approved')), (SELECT count(*) FROM applications a WHERE a.vacancy = "
                    "v.code AND a.status = 'approved') FROM vacancies v WHERE code > ?";
  std::vector<std::string> args = {f.after};
  const std::pair<const char*, const std::string*> text_filters[] = {
      {"exam", &f.exam},     {"activity", &f.activity}, {"venue", &f.venue},
      {"role", &f.role},     {"county", &f.county},     {"subcounty", &f.subcounty}};
  for (const auto& [column, value] : text_filters) {
    if (value->empty()) continue;
    sql += std::string(" AND ") + column + " = ? COLLATE NOCASE";
    args.push_back(*value);
  }
  sql += " ORDER BY code";
  SQLite::Statement q(db_, sql);
  for (std::size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
  std::vector<vacancy_listing> out;
  while (q.executeStep() && static_cast<int>(out.size()) < f.limit) {
    vacancy_listing l;
    l.v = read_vacancy(q);
    l.applications = q.getColumn(12).getInt();
    l.approved = q.getColumn(13).getInt();
    l.open = l.v.opens_at <= now && now < l.v.closes_at && l.approved < l.v.slots;
    if (f.open && *f.open != l.open) continue;
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace cp2::db
