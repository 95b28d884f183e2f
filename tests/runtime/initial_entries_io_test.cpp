// Initial map entries (BEGIN tables) in the stored metadata of a compiled
// program (program_io.h): the compile cache must give the runtime the same
// bytes the compiler produced, and refuse entries that do not fit the map.
#include "program_io.h"

#include <gtest/gtest.h>

#include <string>

namespace hvt {
namespace {

CompiledProgram table_program() {
  CompiledProgram program;
  MapDesc map;
  map.name = "@name";
  map.elf_name = "m_name";
  map.key = Type::int64();
  map.value = Type::string(16);
  map.max_entries = 4096;
  for (uint8_t i = 0; i < 3; ++i) {
    map.initial_keys.insert(map.initial_keys.end(), {i, 0, 0, 0, 0, 0, 0, 0});
    std::vector<uint8_t> value(16, 0);
    value[0] = 'a' + i;
    value[15] = 0xff; // every byte value survives
    map.initial_values.insert(map.initial_values.end(), value.begin(),
                              value.end());
  }
  program.maps.push_back(map);
  MapDesc empty = map;
  empty.name = "@other";
  empty.elf_name = "m_other";
  empty.initial_keys.clear();
  empty.initial_values.clear();
  program.maps.push_back(empty);
  return program;
}

TEST(InitialEntriesIo, RoundTripKeepsEveryByte) {
  CompiledProgram program = table_program();
  std::string json = program_metadata_to_json(program);
  CompiledProgram back;
  std::string error;
  ASSERT_TRUE(program_metadata_from_json(json, back, error)) << error;
  ASSERT_EQ(back.maps.size(), 2u);
  EXPECT_EQ(back.maps[0].initial_keys, program.maps[0].initial_keys);
  EXPECT_EQ(back.maps[0].initial_values, program.maps[0].initial_values);
  EXPECT_TRUE(back.maps[1].initial_keys.empty());
  EXPECT_TRUE(back.maps[1].initial_values.empty());
  EXPECT_EQ(program_metadata_to_json(back), json);
  // One hex string per map: quick to parse for a 1,000-entry table.
  EXPECT_NE(json.find("\"initial_keys\":\"000000000000000001000000000000000200"
                      "000000000000\""),
            std::string::npos)
      << json;
}

TEST(InitialEntriesIo, EntriesThatDoNotFitTheMapAreRefused) {
  CompiledProgram program = table_program();
  program.maps[0].initial_values.pop_back(); // 47 bytes: not 3 x 16
  std::string json = program_metadata_to_json(program);
  CompiledProgram back;
  std::string error;
  EXPECT_FALSE(program_metadata_from_json(json, back, error));
  EXPECT_EQ(error,
            "initial entries do not match the map's key and value sizes");

  program = table_program();
  program.maps[0].initial_keys.resize(16); // 2 keys, 3 values
  json = program_metadata_to_json(program);
  EXPECT_FALSE(program_metadata_from_json(json, back, error));
  EXPECT_EQ(error,
            "initial entries do not match the map's key and value sizes");
}

TEST(InitialEntriesIo, BadHexIsRefused) {
  std::string json = program_metadata_to_json(table_program());
  std::string odd = json;
  odd.replace(odd.find("\"initial_keys\":\"") + 16, 1, "");
  CompiledProgram back;
  std::string error;
  EXPECT_FALSE(program_metadata_from_json(odd, back, error));
  EXPECT_EQ(error, "odd number of hex digits");
  std::string upper = json;
  upper.replace(upper.find("\"initial_keys\":\"") + 16, 1, "G");
  EXPECT_FALSE(program_metadata_from_json(upper, back, error));
  EXPECT_EQ(error, "bad hex digit");
}

} // namespace
} // namespace hvt
