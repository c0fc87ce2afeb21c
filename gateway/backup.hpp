#pragma once
// `cp2-gateway backup FILE`: a consistent copy of the database, taken while the gateway runs.

#include "config/config.hpp"

#include <string>

namespace cp2::gateway {

/// Copies the database at cfg.db.path to `file` with SQLite's online backup: one read
/// transaction on a read-only connection, so the copy is one consistent moment even while the
/// gateway writes (WAL lets it go on writing meanwhile). Refuses an existing `file`; writes
/// `file`.part, checks it (PRAGMA integrity_check), makes it a single self-contained file
/// (journal_mode DELETE) and only then renames it to `file`. Prints the size and the rows of
/// accounts, applications and outbox. Returns the exit code: 0 done, 1 refused or failed
/// (one line on stderr; nothing is left at `file`).
int backup_command(const config::config& cfg, const std::string& file);

}  // namespace cp2::gateway
