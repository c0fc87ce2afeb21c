#include "gateway/logging.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

TEST_CASE("log messages escape into valid JSON and read back unchanged") {
  for (std::string s : {std::string("plain"), std::string("quote \" and backslash \\"),
                        std::string("line\nbreak\r\ttab"), std::string("nul \0 byte", 10),
                        std::string("bell \x07 and \x1f"), std::string("UTF-8: \xe2\x82\xac")}) {
    CAPTURE(s);
    auto line = "{\"msg\":\"" + cp2::gateway::json_escape(s) + "\"}";
    boost::json::error_code ec;
    auto v = boost::json::parse(line, ec);
    REQUIRE_FALSE(ec);
    CHECK(v.at("msg").as_string() == s);
  }
}
