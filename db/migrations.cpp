#include "db/migrations.hpp"

namespace cp2::db {
namespace {

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
};

}  // namespace

std::span<const migration> migrations() { return all; }

}  // namespace cp2::db
