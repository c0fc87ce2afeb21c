#include "db/sqlite_application_store.hpp"

#include "db/sqlite_account_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "db/transaction.hpp"

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace cp2::db {
namespace {

// Every application query starts so; read_application reads its columns.
const std::string select_applications =
    "SELECT a.ref, a.phone, a.vacancy, a.status, a.created_at, a.exam, a.activity, v.role, v.station, "
    "v.closes_at FROM applications a JOIN vacancies v ON v.code = a.vacancy ";

// The first ten columns of every application query: a.ref, a.phone, a.vacancy, a.status,
// a.created_at, a.exam, a.activity, v.role, v.station, v.closes_at.
domain::application read_application(SQLite::Statement& q) {
  domain::application a;
  a.ref = q.getColumn(0).getString();
  a.phone = q.getColumn(1).getString();
  a.vacancy_code = q.getColumn(2).getString();
  a.status = domain::parse_application_status(q.getColumn(3).getString())
                 .value_or(domain::application_status::submitted);
  a.created_at = q.getColumn(4).getInt64();
  a.exam = q.getColumn(5).getString();
  a.activity = q.getColumn(6).getString();
  a.role = q.getColumn(7).getString();
  a.station = q.getColumn(8).getString();
  a.closes_at = q.getColumn(9).getInt64();
  return a;
}

// The six profile fields, in profile order, from column 0 on.
domain::profile read_profile(SQLite::Statement& q) {
  domain::profile p;
  p.full_name = q.getColumn(0).getString();
  p.national_id = q.getColumn(1).getString();
  p.kra_pin = q.getColumn(2).getString();
  p.county = q.getColumn(3).getString();
  p.workstation = q.getColumn(4).getString();
  p.tsc_number = q.getColumn(5).getString();
  return p;
}

}  // namespace

void sqlite_application_store::in_transaction(const std::function<void()>& fn) {
  db::in_transaction(db_, stmts_, fn);
}

void sqlite_application_store::in_read_transaction(const std::function<void()>& fn) {
  // Inside a transaction already (the writer's connection, in a batch): that one is the moment.
  if (sqlite3_get_autocommit(db_.getHandle()) == 0) return fn();
  stmts_.use("BEGIN")->exec();
  try {
    fn();
  } catch (...) {
    try {
      stmts_.use("ROLLBACK")->exec();
    } catch (...) {
    }
    throw;
  }
  stmts_.use("COMMIT")->exec();
}

bool sqlite_application_store::has_account(const std::string& phone) {
  auto q_lease = stmts_.use("SELECT 1 FROM accounts WHERE phone = ?");
  auto& q = *q_lease;
  q.bind(1, phone);
  return q.executeStep();
}

domain::profile sqlite_application_store::find_profile(const std::string& phone) {
  auto q = stmts_.use("SELECT full_name, national_id, kra_pin, county, workstation, tsc_number "
                      "FROM profiles WHERE phone = ?");
  q->bind(1, phone);
  if (!q->executeStep()) return {};
  return read_profile(*q);
}

void sqlite_application_store::save_profile(const std::string& phone, const domain::profile& p,
                                            domain::unix_ms now) {
  auto q_lease = stmts_.use(R"sql(
INSERT INTO profiles (phone, full_name, national_id, kra_pin, county, workstation, tsc_number, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (phone) DO UPDATE SET full_name = excluded.full_name,
  national_id = excluded.national_id, kra_pin = excluded.kra_pin, county = excluded.county,
  workstation = excluded.workstation, tsc_number = excluded.tsc_number,
  updated_at = excluded.updated_at)sql");
  auto& q = *q_lease;
  q.bind(1, phone);
  q.bind(2, p.full_name);
  q.bind(3, p.national_id);
  q.bind(4, p.kra_pin);
  q.bind(5, p.county);
  q.bind(6, p.workstation);
  q.bind(7, p.tsc_number);
  q.bind(8, static_cast<std::int64_t>(now));
  q.exec();
}

std::optional<domain::vacancy> sqlite_application_store::find_vacancy(const std::string& code) {
  return vacancies_.find(code);
}

int sqlite_application_store::approved_count(const std::string& code) {
  auto q_lease = stmts_.use("SELECT count(*) FROM applications WHERE vacancy = ? AND status = 'approved'");
  auto& q = *q_lease;
  q.bind(1, code);
  q.executeStep();
  return q.getColumn(0).getInt();
}

std::vector<domain::application> sqlite_application_store::query(
    const std::string& where, const std::vector<std::string>& args, int limit) {
  auto q_lease = stmts_.use(select_applications + "WHERE " + where + " ORDER BY a.created_at DESC, a.ref LIMIT " +
                            std::to_string(limit));
  auto& q = *q_lease;
  for (std::size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
  std::vector<domain::application> out;
  while (q.executeStep()) {
    out.push_back(read_application(q));
  }
  return out;
}

domain::apply_facts sqlite_application_store::read_for_apply(const std::string& phone,
                                                             const std::string& code) {
  domain::apply_facts f;
  {
    // Profile columns are NULL when the account has no profile yet.
    auto q = stmts_.use("SELECT p.full_name, p.national_id, p.kra_pin, p.county, p.workstation, p.tsc_number "
                        "FROM accounts a LEFT JOIN profiles p ON p.phone = a.phone WHERE a.phone = ?");
    q->bind(1, phone);
    if (!q->executeStep()) return f;
    f.has_account = true;
    if (!q->getColumn(0).isNull()) f.applicant = read_profile(*q);
  }
  if (auto found = vacancies_.find_with_approved(code)) {
    f.wanted = std::move(found->first);
    f.approved = found->second;
  }
  // A handful at most: one per exam and activity (applications_one_per_exam_activity).
  static const std::string active_sql =
      select_applications + "WHERE a.phone = ? AND a.status IN ('submitted', 'approved')";
  auto q = stmts_.use(active_sql);
  q->bind(1, phone);
  while (q->executeStep()) f.active.push_back(read_application(*q));
  return f;
}

std::optional<domain::application> sqlite_application_store::find_by_ref(const std::string& ref) {
  static const std::string sql = select_applications + "WHERE a.ref = ?";
  auto q = stmts_.use(sql);
  q->bind(1, ref);
  if (!q->executeStep()) return std::nullopt;
  return read_application(*q);
}

bool sqlite_application_store::insert_application(const domain::application& a) {
  // A taken reference writes nothing; any other broken rule (a second active application, no
  // such account or vacancy) still throws.
  auto q_lease = stmts_.use("INSERT INTO applications (ref, phone, vacancy, exam, activity, status, "
                            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (ref) DO NOTHING");
  auto& q = *q_lease;
  q.bind(1, a.ref);
  q.bind(2, a.phone);
  q.bind(3, a.vacancy_code);
  q.bind(4, a.exam);
  q.bind(5, a.activity);
  q.bind(6, std::string(domain::to_string(a.status)));
  q.bind(7, static_cast<std::int64_t>(a.created_at));
  q.bind(8, static_cast<std::int64_t>(a.created_at));
  return q.exec() == 1;
}

void sqlite_application_store::update_status(const std::string& ref, domain::application_status s,
                                             domain::unix_ms now) {
  auto q_lease = stmts_.use("UPDATE applications SET status = ?, updated_at = ? WHERE ref = ?");
  auto& q = *q_lease;
  q.bind(1, std::string(domain::to_string(s)));
  q.bind(2, static_cast<std::int64_t>(now));
  q.bind(3, ref);
  q.exec();
}

std::vector<domain::application> sqlite_application_store::list_for(const std::string& phone) {
  return query("a.phone = ?", {phone}, 200);
}

void sqlite_application_store::enqueue_sms(const domain::outbound_sms& sms, domain::unix_ms now) {
  accounts_.enqueue_sms(sms, now);
}

std::vector<application_listing> sqlite_application_store::list_all(const application_filter& f) {
  std::string sql =
      "SELECT a.ref, a.phone, a.vacancy, a.status, a.created_at, a.exam, a.activity, v.role, "
      "v.station, v.closes_at, v.venue, v.county, v.subcounty, p.full_name, p.national_id, "
      "p.kra_pin, p.county, p.workstation, p.tsc_number FROM applications a "
      "JOIN vacancies v ON v.code = a.vacancy LEFT JOIN profiles p ON p.phone = a.phone "
      "WHERE a.ref > ?";
  std::vector<std::string> args = {f.after};
  const std::pair<const char*, const std::string*> filters[] = {
      {"a.vacancy = ? COLLATE NOCASE", &f.vacancy}, {"a.status = ?", &f.status},
      {"v.county = ? COLLATE NOCASE", &f.county}, {"a.exam = ? COLLATE NOCASE", &f.exam},
      {"a.activity = ? COLLATE NOCASE", &f.activity}};
  for (const auto& [clause, value] : filters) {
    if (value->empty()) continue;
    sql += std::string(" AND ") + clause;
    args.push_back(*value);
  }
  sql += " ORDER BY a.ref LIMIT ?";
  SQLite::Statement q(db_, sql);
  int i = 0;
  for (const auto& a : args) q.bind(++i, a);
  q.bind(++i, f.limit);
  std::vector<application_listing> out;
  while (q.executeStep()) {
    application_listing l;
    l.app = read_application(q);
    l.venue = q.getColumn(10).getString();
    l.county = q.getColumn(11).getString();
    l.subcounty = q.getColumn(12).getString();
    auto text = [&](int c) { return q.getColumn(c).isNull() ? std::string() : q.getColumn(c).getString(); };
    l.profile.full_name = text(13);
    l.profile.national_id = text(14);
    l.profile.kra_pin = text(15);
    l.profile.county = text(16);
    l.profile.workstation = text(17);
    l.profile.tsc_number = text(18);
    out.push_back(std::move(l));
  }
  return out;
}

bool sqlite_application_store::opted_out(const std::string& phone) {
  return accounts_.opted_out(phone);
}

}  // namespace cp2::db
