#include "db/sqlite_ussd_events.hpp"

#include <SQLiteCpp/Statement.h>

namespace cp2::db {

void record_ussd_event(SQLite::Database& db, const ussd_event& e) {
  SQLite::Statement q(db, R"sql(
INSERT INTO ussd_events (session_id, phone, service_code, status, input, last_screen, last_response,
                         error_message, duration_ms, hops, cost, date, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
  int i = 0;
  for (const auto* text : {&e.session_id, &e.phone, &e.service_code, &e.status, &e.input,
                           &e.last_screen, &e.last_response, &e.error_message})
    q.bind(++i, *text);
  if (e.duration_ms) q.bind(++i, static_cast<std::int64_t>(*e.duration_ms)); else q.bind(++i);
  if (e.hops) q.bind(++i, static_cast<std::int64_t>(*e.hops)); else q.bind(++i);
  q.bind(++i, e.cost);
  q.bind(++i, e.date);
  q.bind(++i, static_cast<std::int64_t>(e.received_at));
  q.exec();
}

}  // namespace cp2::db
