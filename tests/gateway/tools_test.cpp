// The operator tools of issue #6 against a real gateway on loopback: `simulate` plays USSD
// sessions as the aggregator would, `backup` copies the live database.

#include "gateway/backup.hpp"
#include "gateway/simulate.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

using namespace cp2::test;
using cp2::gateway::simulate_options;

namespace {

const std::string token = "tools-token";
const std::string secret = "sim-secret";

struct tools {
  scratch_dir dir;
  cp2::config::config cfg;
  test_gateway gw;
  tools()
      : cfg(test_config(dir, {"CP2_ADMIN_TOKEN=" + token, "CP2_CALLBACKS_SECRET=" + secret})),
        gw(cfg) {}

  simulate_options options(const std::string& phone, std::optional<std::string> inputs) {
    auto o = cp2::gateway::simulate_defaults(cfg);
    o.url = "http://127.0.0.1:" + std::to_string(gw.port());
    o.phone = phone;
    if (inputs) o.inputs = cp2::gateway::split_inputs(*inputs);
    return o;
  }
  struct run {
    int code;
    std::string out, err;
  };
  run simulate(const simulate_options& o, const std::string& typed = "") {
    std::istringstream in(typed);
    std::ostringstream out, err;
    int code = cp2::gateway::simulate_command(o, in, out, err);
    return {code, out.str(), err.str()};
  }
  void create_account(const std::string& phone) {
    auto r = request("POST", gw.port(), "/api/v1/accounts", R"({"phone":")" + phone + R"("})",
                     {"Authorization: Bearer " + token, "Content-Type: application/json"});
    REQUIRE(r.status == 201);
  }
};

// A loopback port nobody listens on: bound, read back, closed.
unsigned short closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("simulate --inputs plays a whole session: main menu, create account, END") {
  tools t;
  auto r = t.simulate(t.options("0712000101", "1,1"));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, "Dialling *384*22262# from +254712000101 (session SIM-"));
  CHECK(contains(r.out, "| 1. Create account"));
  CHECK(contains(r.out, "| 2. Vacancies"));
  CHECK(contains(r.out, "> 1\n"));
  CHECK(contains(r.out, "| Create a CP2 account for"));
  CHECK(contains(r.out, "Your CP2 account is being"));
  CHECK(r.out.rfind("(session ended)\n") == r.out.size() - 16);
  CHECK(!contains(r.out, "CON "));
  CHECK(!contains(r.out, "END "));

  // The account exists now: the main menu is the account holder's; a typed-in name is sent whole.
  auto again = t.simulate(t.options("+254712000101", "1,1,Jane Moraa"));
  CHECK(again.code == 0);
  CHECK(contains(again.out, "| 2. My applications"));
  CHECK(contains(again.out, "> Jane Moraa\n"));
  CHECK(contains(again.out, "national ID"));
  CHECK(contains(again.out, "(no more inputs; the session is left open)"));
}

TEST_CASE("simulate reads replies from the terminal; q quits and EOF ends without sending") {
  tools t;
  auto quit = t.simulate(t.options("0712000102", std::nullopt), "1\nq\n2\n");
  CHECK(quit.code == 0);
  CHECK(contains(quit.out, "Create a CP2 account for"));
  CHECK(contains(quit.out, "(quit; nothing sent)"));
  CHECK(!contains(quit.out, "being created"));

  auto eof = t.simulate(t.options("0712000102", std::nullopt), "");
  CHECK(eof.code == 0);
  CHECK(contains(eof.out, "1. Create account"));  // q sent nothing: still no account
  CHECK(contains(eof.out, "(end of input)"));

  // An empty line is an empty input: the menu comes back with a notice, nothing ends.
  auto empty = t.simulate(t.options("0712000102", std::nullopt), "1\n\n");
  CHECK(empty.code == 0);
  CHECK(contains(empty.out, "Invalid choice."));

  auto echoed = t.options("0712000102", std::nullopt);
  echoed.echo = true;
  auto typed = t.simulate(echoed, "  1 \r\n1\n");
  CHECK(typed.code == 0);
  CHECK(contains(typed.out, "> 1\n"));
  CHECK(contains(typed.out, "Your CP2 account is being"));
}

TEST_CASE("simulate fails in one clear line: closed port, wrong key, bad phone, no URL") {
  tools t;
  auto o = t.options("0712000103", "1");
  o.url = "http://127.0.0.1:" + std::to_string(closed_port());
  auto down = t.simulate(o);
  CHECK(down.code == 1);
  CHECK(contains(down.err, "POST " + o.url + "/callbacks/ussd failed:"));
  CHECK(std::count(down.err.begin(), down.err.end(), '\n') == 1);

  auto wrong = t.options("0712000103", "1");
  wrong.key = "not-the-secret";
  auto refused = t.simulate(wrong);
  CHECK(refused.code == 1);
  CHECK(contains(refused.err, "/callbacks/ussd answered HTTP 403"));
  CHECK(!contains(refused.err, "not-the-secret"));
  CHECK(!contains(refused.err, secret));

  auto bad = t.simulate(t.options("0812345678", "1"));
  CHECK(bad.code == 2);
  CHECK(contains(bad.err, "--phone \"0812345678\""));
  CHECK(bad.out.empty());

  auto none = t.options("0712000103", "1");
  none.url.clear();
  CHECK(t.simulate(none).code == 2);
}

TEST_CASE("simulate helpers: inputs, default URL, the phone frame") {
  using cp2::gateway::split_inputs;
  CHECK(split_inputs("").empty());
  CHECK(split_inputs("1, 1 ,Jane Moraa") == std::vector<std::string>{"1", "1", "Jane Moraa"});
  CHECK(split_inputs("1,,2") == std::vector<std::string>{"1", "", "2"});

  auto cfg = cp2::config::load_from_text("", {"CP2_SERVER_LISTEN=0.0.0.0:9090", "CP2_CALLBACKS_SECRET=k"});
  auto o = cp2::gateway::simulate_defaults(cfg);
  CHECK(o.url == "http://127.0.0.1:9090");
  CHECK(o.key == "k");
  CHECK(o.phone == "+254700000000");
  CHECK(o.service_code == "*384*22262#");
  cfg = cp2::config::load_from_text("", {"CP2_SERVER_LISTEN=127.0.0.1:0"});
  CHECK(cp2::gateway::simulate_defaults(cfg).url.empty());

  auto screen = cp2::gateway::phone_screen("KNEC CP2: apply for KNEC contracted work\n1. Create account", 20);
  CHECK(screen == ".----------------------.\n"
                  "| KNEC CP2: apply for  |\n"
                  "| KNEC contracted work |\n"
                  "| 1. Create account    |\n"
                  "'----------------------'\n");
}

TEST_CASE("backup copies the live database consistently and never overwrites") {
  tools t;
  t.create_account("0712000104");
  const std::string copy = (t.dir.path / "copy.db").string();

  // Writes go on while the backup runs.
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::thread writer([&] {
    for (int i = 0; i < 80 && !stop; ++i)
      if (request("POST", t.gw.port(), "/api/v1/accounts",
                  R"({"phone":"07130001)" + std::to_string(10 + i) + R"("})",
                  {"Authorization: Bearer " + token, "Content-Type: application/json"})
              .status == 201)
        ++created;
  });
  while (created < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  int code = cp2::gateway::backup_command(t.cfg, copy);
  stop = true;
  writer.join();
  REQUIRE(code == 0);

  CHECK(!std::filesystem::exists(copy + ".part"));
  CHECK(!std::filesystem::exists(copy + "-wal"));
  {
    SQLite::Database db(copy, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "delete");
    CHECK(db.execAndGet("SELECT count(*) FROM accounts WHERE phone = '254712000104'").getInt() == 1);
    // Each account's credentials SMS was written with it: a consistent copy has as many
    // outbox rows as accounts.
    CHECK(db.execAndGet("SELECT count(*) FROM accounts").getInt() >= 4);
    CHECK(db.execAndGet("SELECT count(*) FROM accounts").getInt() ==
          db.execAndGet("SELECT count(*) FROM outbox").getInt());
  }

  // A second backup to the same name is refused and leaves the first copy alone.
  auto before = std::filesystem::file_size(copy);
  auto mtime = std::filesystem::last_write_time(copy);
  CHECK(cp2::gateway::backup_command(t.cfg, copy) == 1);
  CHECK(std::filesystem::file_size(copy) == before);
  CHECK(std::filesystem::last_write_time(copy) == mtime);

  // No database there: refused, nothing written.
  auto missing = t.cfg;
  missing.db.path = (t.dir.path / "nope.db").string();
  CHECK(cp2::gateway::backup_command(missing, (t.dir.path / "other.db").string()) == 1);
  CHECK(!std::filesystem::exists(t.dir.path / "other.db"));
  CHECK(!std::filesystem::exists(t.dir.path / "nope.db"));
}

TEST_CASE("backup of a stopped gateway's database, its WAL files gone") {
  scratch_dir dir;
  auto cfg = test_config(dir, {"CP2_ADMIN_TOKEN=" + token});
  {
    test_gateway gw(cfg);
    REQUIRE(request("POST", gw.port(), "/api/v1/accounts", R"({"phone":"0712000105"})",
                    {"Authorization: Bearer " + token, "Content-Type: application/json"})
                .status == 201);
  }
  REQUIRE(!std::filesystem::exists(cfg.db.path + "-wal"));
  const std::string copy = (dir.path / "after.db").string();
  REQUIRE(cp2::gateway::backup_command(cfg, copy) == 0);
  SQLite::Database db(copy, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT count(*) FROM accounts").getInt() == 1);
}
