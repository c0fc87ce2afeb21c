#include "gateway/simulate.hpp"

#include "domain/msisdn.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <istream>
#include <mutex>
#include <ostream>
#include <random>
#include <stdexcept>
#include <utility>

namespace cp2::gateway {

namespace {

struct http_answer {
  long status = 0;    // 0: no HTTP answer at all
  std::string body;
  std::string error;  // curl's message when status == 0
};

size_t on_body(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  // A USSD screen is 182 characters; anything near this size is not a gateway's answer.
  if (body->size() + size * n > 64 * 1024) return 0;
  body->append(data, size * n);
  return size * n;
}

std::string escape(CURL* c, const std::string& value) {
  char* e = curl_easy_escape(c, value.data(), static_cast<int>(value.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

// One POST as the aggregator makes it: a form body, no Expect, no redirects followed.
http_answer post_callback(const std::string& url, const std::string& key,
                          const std::vector<std::pair<std::string, std::string>>& fields,
                          long timeout_ms) {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never paired with curl_global_cleanup: other code in the process may still use curl.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
  http_answer answer;
  CURL* c = curl_easy_init();
  if (!c) {
    answer.error = "curl_easy_init failed";
    return answer;
  }
  std::string target = key.empty() ? url : url + "?key=" + escape(c, key);
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += name + "=" + escape(c, value);
  }
  // Loopback never goes through a proxy from the environment; other hosts follow it.
  std::string no_proxy = "localhost,127.0.0.1,::1";
  for (const char* var : {"no_proxy", "NO_PROXY"})
    if (const char* v = std::getenv(var); v && *v) no_proxy += std::string(",") + v;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded");
  headers = curl_slist_append(headers, "Expect:");
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 5'000L));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cp2-gateway-simulate");
  auto rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  else answer.error = error[0] ? error : curl_easy_strerror(rc);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  return answer;
}

std::string random_session_id() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  std::string id = "SIM-";
  for (int i = 0; i < 16; ++i) id += "0123456789abcdef"[nibble(rd)];
  return id;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// The first line of an error body, short, for a one-line message.
std::string gist(const std::string& body) {
  auto line = trim(body.substr(0, body.find('\n')));
  return line.size() > 80 ? line.substr(0, 77) + "..." : line;
}

// The callback URL: the root given plus /callbacks/ussd, unless it already ends so.
std::string callback_url(std::string root) {
  static const std::string path = "/callbacks/ussd";
  while (!root.empty() && root.back() == '/') root.pop_back();
  if (root.size() >= path.size() && root.compare(root.size() - path.size(), path.size(), path) == 0)
    return root;
  return root + path;
}

}  // namespace

simulate_options simulate_defaults(const config::config& cfg) {
  simulate_options o;
  o.key = cfg.callbacks.secret;
  std::string host = cfg.server.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  else if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  o.url = cfg.server.port == 0 ? "" : fmt::format("http://{}:{}", host, cfg.server.port);
  return o;
}

std::vector<std::string> split_inputs(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    out.push_back(trim(text.substr(start, comma - start)));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string phone_screen(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    std::string para = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    // Greedy word wrap; a word longer than the screen is cut where the screen ends.
    std::string line;
    std::size_t i = 0;
    while (i < para.size()) {
      auto end = para.find(' ', i);
      std::string word = para.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? para.size() : end + 1;
      while (word.size() > width) {
        if (!line.empty()) lines.push_back(std::exchange(line, {}));
        lines.push_back(word.substr(0, width));
        word.erase(0, width);
      }
      if (line.empty()) {
        line = word;
      } else if (line.size() + 1 + word.size() <= width) {
        line += " " + word;
      } else {
        lines.push_back(std::exchange(line, word));
      }
    }
    lines.push_back(std::move(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  std::string rule(width + 2, '-');
  std::string out = "." + rule + ".\n";
  for (const auto& l : lines) out += fmt::format("| {:<{}} |\n", l, width);
  out += "'" + rule + "'\n";
  return out;
}

int simulate_command(const simulate_options& options, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  auto phone = domain::parse_msisdn(options.phone);
  if (!phone) {
    err << fmt::format("cp2-gateway simulate: --phone \"{}\": {}\n", options.phone,
                       domain::describe(phone.error()));
    return 2;
  }
  if (options.url.empty()) {
    err << "cp2-gateway simulate: no URL: server.listen has port 0, so give --url "
           "http://HOST:PORT of the running gateway\n";
    return 2;
  }
  const std::string url = callback_url(options.url);
  const std::string session = options.session_id.empty() ? random_session_id() : options.session_id;
  out << fmt::format("Dialling {} from {} (session {}) at {}\n", options.service_code,
                     phone->international(), session, url);

  std::string text;  // every input so far, joined with '*'
  std::size_t played = 0, sent = 0;
  while (true) {
    auto answer = post_callback(url, options.key,
                                {{"sessionId", session},
                                 {"serviceCode", options.service_code},
                                 {"phoneNumber", phone->international()},
                                 {"networkCode", options.network_code},
                                 {"text", text}},
                                options.timeout_ms);
    if (answer.status == 0) {
      err << fmt::format("cp2-gateway simulate: POST {} failed: {} (is the gateway running there?)\n",
                         url, answer.error);
      return 1;
    }
    if (answer.status != 200) {
      std::string hint = answer.status == 403 ? " (check the key, callbacks.secret, and callbacks.allow_from)" : "";
      err << fmt::format("cp2-gateway simulate: POST {} answered HTTP {}: {}{}\n", url,
                         answer.status, gist(answer.body), hint);
      return 1;
    }
    bool more = answer.body.rfind("CON ", 0) == 0;
    if (!more && answer.body.rfind("END ", 0) != 0) {
      err << fmt::format("cp2-gateway simulate: POST {} answered HTTP 200 without CON or END: {}\n",
                         url, gist(answer.body));
      return 1;
    }
    out << phone_screen(answer.body.substr(4));
    if (!more) {
      out << "(session ended)\n";
      return 0;
    }

    std::string input;
    if (options.inputs) {
      if (played == options.inputs->size()) {
        out << "(no more inputs; the session is left open)\n";
        return 0;
      }
      input = trim((*options.inputs)[played++]);
      out << "> " << input << "\n";
    } else {
      out << "> " << std::flush;
      std::string line;
      if (!std::getline(in, line)) {
        out << "\n(end of input)\n";
        return 0;
      }
      input = trim(line);
      if (options.echo) out << input << "\n";
      if (input == "q") {
        out << "(quit; nothing sent)\n";
        return 0;
      }
    }
    // The aggregator joins every input of the session with '*'; the first is not preceded by one.
    text = sent++ == 0 ? input : text + "*" + input;
  }
}

}  // namespace cp2::gateway
