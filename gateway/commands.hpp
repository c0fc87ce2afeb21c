#pragma once
// Subcommands of cp2-gateway other than serve.

#include "config/config.hpp"

#include <string>

namespace cp2::gateway {

/// `cp2-gateway import-vacancies FILE.csv`: checks the whole file as POST /api/v1/vacancies
/// does and, when every row is good, upserts them in one transaction. Prints the counts, or
/// every bad row, and returns the exit code (0 imported, 1 refused or failed).
int import_vacancies_command(const config::config& cfg, const std::string& file);

}  // namespace cp2::gateway
