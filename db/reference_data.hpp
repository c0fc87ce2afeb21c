#pragma once
// Reference data compiled into the binary from data/ (see db/CMakeLists.txt).

#include <string_view>

namespace cp2::db {

/// The text of data/kenya-counties.csv as it was when the binary was built.
std::string_view kenya_counties_csv();

}  // namespace cp2::db
