// cp2-gateway: the KNEC CP2 SMS and USSD gateway. Parses the command line and the
// configuration, wires the service and runs it until SIGINT or SIGTERM.

#include "config/config.hpp"
#include "db/database.hpp"
#include "gateway/app.hpp"
#include "gateway/commands.hpp"
#include "gateway/logging.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <vector>

#ifndef CP2_VERSION
#define CP2_VERSION "unknown"
#endif

namespace {

constexpr const char* usage = R"(Usage: cp2-gateway [COMMAND] [--config FILE]

The KNEC CP2 gateway: USSD and SMS (shortcode 22262) registration and job applications.

Commands:
  serve                        run the service (the default)
  import-vacancies FILE.csv    check and load vacancies (columns as POST /api/v1/vacancies);
                               nothing is loaded unless every row is good

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
    } else if (i == 0 && (a == "serve" || a == "import-vacancies")) {
      command = a;
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
  cp2::gateway::setup_logging(cfg.log.level);

  if (command == "import-vacancies") {
    if (operands.size() != 1) {
      std::fprintf(stderr, "cp2-gateway: import-vacancies needs one CSV file (try --help)\n");
      return 2;
    }
    return cp2::gateway::import_vacancies_command(cfg, operands[0]);
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
