#pragma once
// USSD session events (SPEC 3.4) in the database.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>

namespace cp2::db {

/// One end-of-session report from the aggregator.
struct ussd_event {
  std::string session_id, phone, service_code, status, input, last_screen, last_response,
      error_message, cost, date;
  std::optional<std::int64_t> duration_ms, hops;
  std::int64_t received_at = 0;
};

/// Appends `e` to ussd_events.
/// Thread safety: the database thread only.
void record_ussd_event(SQLite::Database& db, const ussd_event& e);

}  // namespace cp2::db
