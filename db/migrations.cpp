#include "db/migrations.hpp"

#include "db/reference_data.hpp"
#include "domain/vacancy.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <stdexcept>

namespace cp2::db {
namespace {

// Kenya's counties and sub-counties from data/kenya-counties.csv, compiled into the binary.
void load_counties(SQLite::Database& db) {
  auto lookup = domain::static_county_lookup::from_csv(kenya_counties_csv());
  if (!lookup) throw std::runtime_error("data/kenya-counties.csv row " +
                                        std::to_string(lookup.error().row) + ": " +
                                        lookup.error().message);
  SQLite::Statement county(db, "INSERT INTO counties (position, name) VALUES (?, ?)");
  SQLite::Statement sub(db, "INSERT INTO subcounties (county, position, name) VALUES (?, ?, ?)");
  int position = 0;
  for (const auto& c : lookup->counties()) {
    county.bind(1, ++position);
    county.bind(2, c.name);
    county.exec();
    county.reset();
    int sub_position = 0;
    for (const auto& s : c.subcounties) {
      sub.bind(1, c.name);
      sub.bind(2, ++sub_position);
      sub.bind(3, s);
      sub.exec();
      sub.reset();
    }
  }
}

// Times are Unix milliseconds (UTC). Phone numbers are the canonical 2547XXXXXXXX form.
// Released migrations are never edited: a change is a new entry at the end.
constexpr migration all[] = {
    {1, "accounts and outbox", R"sql(
CREATE TABLE accounts (
  phone               TEXT PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE,
  password_hash       TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL,
  failed_logins       INTEGER NOT NULL DEFAULT 0,
  locked_until        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- STOP is recorded for any number, with or without an account (SPEC section 7).
CREATE TABLE opt_outs (
  phone TEXT PRIMARY KEY,
  since INTEGER NOT NULL
) STRICT;

-- Incoming SMS ids already handled: the same id delivered twice is handled once.
CREATE TABLE inbound_sms (
  id          TEXT PRIMARY KEY,
  phone       TEXT NOT NULL,
  keyword     TEXT NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

-- Password resets and other rate-limited events, counted over a sliding window.
CREATE TABLE limit_events (
  phone TEXT NOT NULL,
  kind  TEXT NOT NULL,
  at    INTEGER NOT NULL
) STRICT;
CREATE INDEX limit_events_by_phone ON limit_events (phone, kind, at);

-- Every outbound SMS, written in the same transaction as the change that causes it.
CREATE TABLE outbox (
  id                  INTEGER PRIMARY KEY,
  phone               TEXT NOT NULL,
  body                TEXT NOT NULL,
  sensitive           INTEGER NOT NULL DEFAULT 0,
  kind                TEXT NOT NULL,
  link_id             TEXT NOT NULL DEFAULT '',
  state               TEXT NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued','sending','accepted','sent','delivered','failed')),
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  provider_message_id TEXT UNIQUE,
  cost                TEXT NOT NULL DEFAULT '',
  last_error          TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_phone ON outbox (phone, id);
)sql"},
    {2, "delivery reports", R"sql(
ALTER TABLE outbox ADD COLUMN delivery_status TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN failure_reason TEXT NOT NULL DEFAULT '';

-- Every delivery report received. One whose message id is not known yet (it can arrive before
-- the provider's answer to the send was stored) waits here with applied = 0 and is applied
-- when that answer is stored.
CREATE TABLE delivery_reports (
  id                  INTEGER PRIMARY KEY,
  provider_message_id TEXT NOT NULL,
  state               TEXT NOT NULL CHECK (state IN ('sent','delivered','failed')),
  status              TEXT NOT NULL,
  failure_reason      TEXT NOT NULL DEFAULT '',
  received_at         INTEGER NOT NULL,
  applied             INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX delivery_reports_by_message ON delivery_reports (provider_message_id, applied);
)sql"},
    {3, "counties, vacancies, profiles and applications", R"sql(
CREATE TABLE counties (
  name     TEXT PRIMARY KEY,
  position INTEGER NOT NULL
) STRICT;
CREATE TABLE subcounties (
  county   TEXT NOT NULL REFERENCES counties (name),
  name     TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (county, name)
) STRICT;

CREATE TABLE vacancies (
  code        TEXT PRIMARY KEY COLLATE NOCASE,  -- "kcse-1" and "KCSE-1" are one vacancy
  exam        TEXT NOT NULL,
  activity    TEXT NOT NULL,
  venue       TEXT NOT NULL,
  role        TEXT NOT NULL,
  county      TEXT NOT NULL,
  subcounty   TEXT NOT NULL,
  station     TEXT NOT NULL,
  slots       INTEGER NOT NULL CHECK (slots >= 1),
  description TEXT NOT NULL DEFAULT '',
  opens_at    INTEGER NOT NULL,
  closes_at   INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  CHECK (closes_at > opens_at)
) STRICT;

CREATE TABLE profiles (
  phone       TEXT PRIMARY KEY REFERENCES accounts (phone),
  full_name   TEXT NOT NULL DEFAULT '',
  national_id TEXT NOT NULL DEFAULT '',
  kra_pin     TEXT NOT NULL DEFAULT '',
  county      TEXT NOT NULL DEFAULT '',
  workstation TEXT NOT NULL DEFAULT '',
  tsc_number  TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE applications (
  ref        TEXT PRIMARY KEY,
  phone      TEXT NOT NULL REFERENCES accounts (phone),
  vacancy    TEXT NOT NULL REFERENCES vacancies (code),
  exam       TEXT NOT NULL,
  activity   TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('submitted','withdrawn','approved','rejected')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
-- The rules of SPEC 4.5 held by the database too, so two racing requests cannot both win.
CREATE UNIQUE INDEX applications_one_per_vacancy ON applications (phone, vacancy)
  WHERE status IN ('submitted', 'approved');
CREATE UNIQUE INDEX applications_one_per_exam_activity ON applications (phone, exam, activity)
  WHERE status IN ('submitted', 'approved');
CREATE INDEX applications_by_vacancy ON applications (vacancy, status);
CREATE INDEX applications_by_phone ON applications (phone, created_at);
)sql", load_counties},
    {4, "USSD session events", R"sql(
-- The aggregator's end-of-session reports (SPEC 3.4), with the last screen we showed: where
-- applicants drop off.
CREATE TABLE ussd_events (
  id            INTEGER PRIMARY KEY,
  session_id    TEXT NOT NULL,
  phone         TEXT NOT NULL,
  service_code  TEXT NOT NULL DEFAULT '',
  status        TEXT NOT NULL,
  input         TEXT NOT NULL DEFAULT '',
  last_screen   TEXT NOT NULL DEFAULT '',
  last_response TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  duration_ms   INTEGER,
  hops          INTEGER,
  cost          TEXT NOT NULL DEFAULT '',
  date          TEXT NOT NULL DEFAULT '',
  received_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX ussd_events_by_phone ON ussd_events (phone, received_at);
CREATE INDEX ussd_events_by_screen ON ussd_events (status, last_screen);
)sql"},
    {5, "an index for claiming queued messages", R"sql(
-- claim_due walks queued rows in id order and stops after a handful; without this index
-- SQLite read every queued row through outbox_due and sorted them (50 ms a claim with 100,000
-- queued, during which every other statement waited). See docs/performance.md.
CREATE INDEX outbox_queued ON outbox (id, next_attempt_at) WHERE state = 'queued';
)sql"},
    {6, "the outbox's state index holds unfinished messages only", R"sql(
-- outbox_due held every message by state, so each step of a message's life (sending,
-- accepted, sent, delivered) moved its entry, and it grew with the history. Only unfinished
-- messages are ever looked up by state: the queries name this index's condition so that
-- SQLite uses it. See docs/performance.md.
DROP INDEX outbox_due;
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at) WHERE state IN ('queued', 'sending');
)sql"},
    {7, "checks on a message's state and an application's status without IN lists", R"sql(
-- SQLite checks "x IN (three or more constants)" by building a temporary b-tree of the
-- constants, for every row written: two such b-trees an application (its row and its SMS), a
-- sixth of the writer's time (docs/performance.md). The same rules written with OR are plain
-- comparisons. SQLite cannot change a CHECK in place, so both tables are copied, as its
-- documentation describes; nothing refers to either by foreign key.
CREATE TABLE outbox_new (
  id                  INTEGER PRIMARY KEY,
  phone               TEXT NOT NULL,
  body                TEXT NOT NULL,
  sensitive           INTEGER NOT NULL DEFAULT 0,
  kind                TEXT NOT NULL,
  link_id             TEXT NOT NULL DEFAULT '',
  state               TEXT NOT NULL DEFAULT 'queued'
                      CHECK (state = 'queued' OR state = 'sending' OR state = 'accepted' OR
                             state = 'sent' OR state = 'delivered' OR state = 'failed'),
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  provider_message_id TEXT,
  cost                TEXT NOT NULL DEFAULT '',
  last_error          TEXT NOT NULL DEFAULT '',
  delivery_status     TEXT NOT NULL DEFAULT '',
  failure_reason      TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO outbox_new SELECT id, phone, body, sensitive, kind, link_id, state, attempts,
  next_attempt_at, created_at, updated_at, provider_message_id, cost, last_error, delivery_status,
  failure_reason FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_phone ON outbox (phone, id);
CREATE INDEX outbox_queued ON outbox (id, next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at) WHERE state IN ('queued', 'sending');
-- Unique as before, without an entry for every message not yet accepted (those have none).
CREATE UNIQUE INDEX outbox_by_provider_id ON outbox (provider_message_id)
  WHERE provider_message_id IS NOT NULL;

CREATE TABLE applications_new (
  ref        TEXT PRIMARY KEY,
  phone      TEXT NOT NULL REFERENCES accounts (phone),
  vacancy    TEXT NOT NULL REFERENCES vacancies (code),
  exam       TEXT NOT NULL,
  activity   TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status = 'submitted' OR status = 'withdrawn' OR
                                  status = 'approved' OR status = 'rejected'),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO applications_new SELECT ref, phone, vacancy, exam, activity, status, created_at,
  updated_at FROM applications;
DROP TABLE applications;
ALTER TABLE applications_new RENAME TO applications;
CREATE UNIQUE INDEX applications_one_per_vacancy ON applications (phone, vacancy)
  WHERE status IN ('submitted', 'approved');
CREATE UNIQUE INDEX applications_one_per_exam_activity ON applications (phone, exam, activity)
  WHERE status IN ('submitted', 'approved');
CREATE INDEX applications_by_vacancy ON applications (vacancy, status);
CREATE INDEX applications_by_phone ON applications (phone, created_at);
)sql"},
};

}  // namespace

std::span<const migration> migrations() { return all; }

}  // namespace cp2::db
