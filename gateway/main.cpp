// cp2-gateway: the KNEC CP2 SMS and USSD gateway. Parses the command line and the
// configuration, wires the service and runs it until SIGINT or SIGTERM.

#include "config/config.hpp"
#include "db/database.hpp"
#include "gateway/app.hpp"
#include "gateway/backup.hpp"
#include "gateway/commands.hpp"
#include "gateway/logging.hpp"
#include "gateway/simulate.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#ifndef CP2_VERSION
#define CP2_VERSION "unknown"
#endif

namespace {

constexpr const char* usage = R"(Usage: cp2-gateway [COMMAND] [OPERANDS] [OPTIONS] [--config FILE]

The KNEC CP2 gateway: USSD and SMS (shortcode 22262) registration and job applications.

Commands:
  serve                        run the service (the default)
  import-vacancies FILE.csv    check and load vacancies (columns as POST /api/v1/vacancies);
                               nothing is loaded unless every row is good
  simulate [--url URL] [--phone N] [--service-code CODE] [--inputs "1,1,Jane Moraa"]
                               a phone in the terminal: drives a running gateway's
                               /callbacks/ussd as the aggregator does (default URL from
                               server.listen, ?key= from callbacks.secret); type a reply
                               per screen, q to quit; --inputs plays replies and stops
  backup FILE                  consistent copy of the live database (SQLite online backup);
                               never overwrites FILE

Options:
  --config FILE    TOML configuration (see config/cp2-gateway.toml); every key can be
                   overridden by CP2_<SECTION>_<KEY> in the environment
  --help           show this text
  --version        show the version
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  std::string config_path;
  std::vector<std::string> operands;
  std::map<std::string, std::string> sim;  // simulate's --url, --phone, --service-code, --inputs
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("cp2-gateway %s\n", CP2_VERSION);
      return 0;
    }
    if (a == "--config") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "cp2-gateway: --config needs a file name\n");
        return 2;
      }
      config_path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (i == 0 && (a == "serve" || a == "import-vacancies" || a == "simulate" || a == "backup")) {
      command = a;
    } else if (command == "simulate" &&
               (a == "--url" || a == "--phone" || a == "--service-code" || a == "--inputs")) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "cp2-gateway: %s needs a value\n", a.c_str());
        return 2;
      }
      sim[a] = args[++i];
    } else if (command != "serve" && a.rfind("--", 0) != 0) {
      operands.push_back(a);
    } else {
      std::fprintf(stderr, "cp2-gateway: unknown argument \"%s\" (try --help)\n", a.c_str());
      return 2;
    }
  }

  cp2::config::config cfg;
  try {
    cfg = cp2::config::load(config_path);
  } catch (const cp2::config::config_error& e) {
    std::fprintf(stderr, "cp2-gateway: configuration: %s\n", e.what());
    return 2;
  }
  cp2::gateway::setup_logging(cfg.log.level, cfg.log.format);

  if (command == "import-vacancies") {
    if (operands.size() != 1) {
      std::fprintf(stderr, "cp2-gateway: import-vacancies needs one CSV file (try --help)\n");
      return 2;
    }
    return cp2::gateway::import_vacancies_command(cfg, operands[0]);
  }
  if (command == "backup") {
    if (operands.size() != 1) {
      std::fprintf(stderr, "cp2-gateway: backup needs one file name (try --help)\n");
      return 2;
    }
    return cp2::gateway::backup_command(cfg, operands[0]);
  }
  if (command == "simulate") {
    if (!operands.empty()) {
      std::fprintf(stderr, "cp2-gateway: simulate takes no operands (try --help)\n");
      return 2;
    }
    auto options = cp2::gateway::simulate_defaults(cfg);
    if (sim.count("--url")) options.url = sim["--url"];
    if (sim.count("--phone")) options.phone = sim["--phone"];
    if (sim.count("--service-code")) options.service_code = sim["--service-code"];
    if (sim.count("--inputs")) options.inputs = cp2::gateway::split_inputs(sim["--inputs"]);
    options.echo = !::isatty(STDIN_FILENO);
    return cp2::gateway::simulate_command(options, std::cin, std::cout);
  }

  try {
    cp2::gateway::app gateway(cfg);
    gateway.handle_signals();
    gateway.start();
    return gateway.wait();
  } catch (const cp2::db::database_error& e) {
    spdlog::critical("database: {}", e.what());
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
  }
  return 1;
}
