// Tests of the trace writers: JSON writer/parser, VCD writer + reader, Chrome trace JSON.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "platform/trace/chrome_trace.hpp"
#include "platform/trace/json.hpp"
#include "platform/trace/vcd_reader.hpp"
#include "platform/trace/vcd_writer.hpp"

using namespace cimvp::trace;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

// ------------------------------------------------------------------------------------ JSON
TEST_CASE("json: dump of a built tree is exact, ordered and deterministic", "[json]") {
  Json j = Json::object();
  j["b"] = 1;
  j["a"] = "x\"y\\z\n\t\x01";
  j["c"] = Json::array();
  j["c"].push_back(true);
  j["c"].push_back(Json());
  j["c"].push_back(0.1);
  j["c"].push_back(-2.5e-300);
  j["d"] = Json::object();
  j["e"] = std::numeric_limits<double>::infinity();  // JSON has no inf: written as null
  CHECK(j.dump() == R"({"b":1,"a":"x\"y\\z\n\t\u0001","c":[true,null,0.1,-2.5e-300],"d":{},"e":null})");
  CHECK(j.dump(2) ==
        "{\n  \"b\": 1,\n  \"a\": \"x\\\"y\\\\z\\n\\t\\u0001\",\n  \"c\": [\n    true,\n    null,\n    0.1,\n"
        "    -2.5e-300\n  ],\n  \"d\": {},\n  \"e\": null\n}");
  j["b"] = 2;  // existing key keeps its position
  CHECK(j.keys() == std::vector<std::string>{"b", "a", "c", "d", "e"});
  CHECK(j.dump() == j.dump());
}

TEST_CASE("json: parse handles escapes, unicode and surrogate pairs", "[json]") {
  Json j = Json::parse(R"( {"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\ud83d\ude00","n":[1,-0,2.5E3,1e-2]} )");
  CHECK(j.at("s").as_string() == "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  const Json& n = j.at("n");
  REQUIRE(n.size() == 4);
  CHECK(n.at(0).as_int64() == 1);
  CHECK(n.at(2).as_double() == 2500.0);
  CHECK(n.at(3).as_double() == 0.01);
  CHECK_FALSE(n.at(2).is_integer());
  // Round trip: the UTF-8 survives a dump and parse unchanged.
  CHECK(Json::parse(j.dump()) == j);
}

TEST_CASE("json: numbers round-trip exactly (random doubles, 64-bit integers)", "[json]") {
  std::mt19937_64 rng(20250611);
  std::uniform_int_distribution<uint64_t> bits;
  int tested = 0;
  for (int i = 0; i < 20000; ++i) {
    uint64_t b = bits(rng);
    double d;
    std::memcpy(&d, &b, sizeof d);
    if (!std::isfinite(d)) continue;
    Json back = Json::parse(Json(d).dump());
    REQUIRE(back.as_double() == d);
    ++tested;
  }
  CHECK(tested > 19000);
  CHECK(Json(0.1).dump() == "0.1");
  CHECK(Json(1.0 / 3.0).dump() == "0.3333333333333333");
  CHECK(Json::parse(Json(std::numeric_limits<uint64_t>::max()).dump()).as_uint64() ==
        std::numeric_limits<uint64_t>::max());
  CHECK(Json::parse(Json(std::numeric_limits<int64_t>::min()).dump()).as_int64() ==
        std::numeric_limits<int64_t>::min());
  CHECK(Json(std::numeric_limits<uint64_t>::max()).dump() == "18446744073709551615");
  CHECK(Json(-7).dump() == "-7");
  CHECK_THROWS_AS(Json::parse("-1").as_uint64(), std::runtime_error);
  CHECK_THROWS_AS(Json::parse("1.5").as_int64(), std::runtime_error);
}

TEST_CASE("json: malformed input is rejected with the offset of the problem", "[json]") {
  struct Bad {
    const char* text;
    std::size_t offset;
  };
  const Bad bad[] = {
      {"[1,2,]", 5},  {"{\"a\":1,}", 7},   {"01", 1},       {"[1 2]", 3},    {"\"abc", 4},
      {"tru", 0},     {"{\"a\" 1}", 5},    {"1.", 2},       {"-", 1},        {"[\"a\x01\"]", 3},
      {"\"\\x\"", 1}, {"\"\\ud800\"", 7},  {"{} x", 3},     {"", 0},         {"{1:2}", 1},
  };
  for (const auto& b : bad) {
    INFO(b.text);
    try {
      Json::parse(b.text);
      FAIL("accepted malformed JSON");
    } catch (const JsonError& e) {
      CHECK(e.offset() == b.offset);
      CHECK(std::string(e.what()).find("offset") != std::string::npos);
    }
  }
  CHECK_THROWS_AS(Json::parse(std::string(600, '[') + std::string(600, ']')), JsonError);  // depth limit
  CHECK_THROWS_AS(Json::parse("{}").at("missing"), std::runtime_error);
}

// ------------------------------------------------------------------------------------- VCD
TEST_CASE("vcd: writer output matches the IEEE 1364 text exactly", "[vcd]") {
  {
    VcdWriter w("t_exact.vcd");
    int clk = w.add_wire("soc", "clk", 1);
    int data = w.add_wire("soc.bus", "data", 8, 3);
    int pw = w.add_real("soc", "power_mW");
    w.change(data, 2000, 0xA5);
    w.change(clk, 1000, 1);
    w.change_real(pw, 1000, 1.5);
    w.change(clk, 1000, 1);  // same value again: dropped
    w.flush_before(1500);    // writes #1000 only
    w.change(clk, 2000, 0);
    w.close(5000);
  }
  const std::string expected =
      "$version\n  cimvp VcdWriter 1.0\n$end\n"
      "$timescale\n  1 ps\n$end\n"
      "$scope module soc $end\n"
      "$var wire 1 ! clk $end\n"
      "$var real 64 # power_mW $end\n"
      "$scope module bus $end\n"
      "$var wire 8 \" data $end\n"
      "$upscope $end\n"
      "$upscope $end\n"
      "$enddefinitions $end\n"
      "#0\n$dumpvars\n0!\nb11 \"\nr0 #\n$end\n"
      "#1000\n1!\nr1.5 #\n"
      "#2000\nb10100101 \"\n0!\n"
      "#5000\n";
  CHECK(slurp("t_exact.vcd") == expected);
}

TEST_CASE("vcd: out-of-order changes are written sorted and read back at the right times", "[vcd]") {
  std::mt19937_64 rng(7);
  struct Ch {
    uint64_t t;
    uint64_t v;
  };
  std::vector<Ch> truth;
  {
    VcdWriter w("t_ooo.vcd");
    int a = w.add_wire("top.cpu", "addr", 32);
    int r = w.add_real("top.pmu", "p");
    // Two "initiators" each emit in their own order but interleave out of order; flush at a
    // kernel time that lags every local time, as under temporal decoupling.
    uint64_t kernel = 0;
    for (int q = 0; q < 50; ++q) {
      uint64_t base = kernel;
      for (int k = 0; k < 10; ++k) {
        uint64_t t = base + 100 + static_cast<uint64_t>(rng() % 900);  // inside the quantum
        uint64_t v = rng() & 0xffffffffu;
        w.change(a, t, v);
        truth.push_back({t, v});
      }
      w.change_real(r, base + 500, q * 0.25);
      kernel += 1000;
      w.flush_before(kernel);
    }
    w.close(kernel);
    CHECK_THROWS_AS(VcdWriter("t_ooo2.vcd").change(0, 0, 0), std::invalid_argument);  // unknown id
  }
  VcdFile f = read_vcd("t_ooo.vcd");
  CHECK(f.timescale == "1 ps");
  CHECK(f.timescale_s == 1e-12);
  CHECK(f.end_time == 50000);
  const VcdSignal& s = f.signal("top.cpu.addr");
  CHECK(s.width == 32);
  CHECK(s.type == "wire");
  // The expected list: stable sort by time, then consecutive duplicates dropped.
  std::stable_sort(truth.begin(), truth.end(), [](const Ch& x, const Ch& y) { return x.t < y.t; });
  std::vector<Ch> exp{{0, 0}};
  for (const auto& c : truth)
    if (c.v != exp.back().v) exp.push_back(c);
  REQUIRE(s.values.size() == exp.size());
  for (std::size_t i = 0; i < exp.size(); ++i) {
    CHECK(s.values[i].time == exp[i].t);
    CHECK(s.values[i].as_uint() == exp[i].v);
  }
  const VcdSignal& p = f.signal("p");
  CHECK(p.is_real());
  CHECK(p.at(10499).as_real() == 2.25);  // q = 9 until 10500
  CHECK(p.at(10500).as_real() == 2.5);
  CHECK(p.at(11500).as_real() == 2.75);
}

TEST_CASE("vcd: a size cap stops recording with $dumpoff (wires x), the file still parses and ends at the end time",
          "[vcd]") {
  uint64_t cut = 0;
  std::size_t bytes = 0;
  {
    VcdWriter w("t_cap.vcd");
    w.set_max_bytes(2000);
    int a = w.add_wire("top", "addr", 32);
    int b = w.add_wire("top", "busy", 1);
    int r = w.add_real("top", "p");
    for (uint64_t t = 1; t <= 1000; ++t) {
      w.change(a, t * 10, t);
      w.change(b, t * 10, t & 1);
      w.change_real(r, t * 10, 0.5 * static_cast<double>(t));
      if (t % 50 == 0) w.flush_before(t * 10 + 1);
    }
    w.close(20000);
    REQUIRE(w.truncated());
    cut = w.truncated_at_ps();
    bytes = w.bytes_written();
    CHECK(w.buffered() == 0u);  // changes past the cap are not kept in memory either
  }
  CHECK(cut > 10);
  CHECK(cut < 10000);
  CHECK(bytes < 2000u + 200u);  // the cap, plus the last timestamp's changes and the $dumpoff block
  const std::string text = slurp("t_cap.vcd");
  CHECK(text.find("$comment value changes from here on are not recorded") != std::string::npos);
  CHECK(text.find("$dumpoff") != std::string::npos);
  VcdFile f = read_vcd("t_cap.vcd");
  CHECK(f.end_time == 20000);
  const VcdSignal& addr = f.signal("top.addr");
  const VcdSignal& busy = f.signal("top.busy");
  // Recorded exactly up to the cut, unknown (x) from the cut to the end.
  CHECK(addr.at(cut - 10).as_uint() == (cut - 10) / 10);
  CHECK_FALSE(addr.at(cut).is_known());
  CHECK_FALSE(addr.at(19999).is_known());
  CHECK_FALSE(busy.at(cut).is_known());
  CHECK(addr.values.back().time == cut);
  // Without a cap the same changes are all there.
  VcdWriter full("t_nocap.vcd");
  int a = full.add_wire("top", "addr", 32);
  for (uint64_t t = 1; t <= 1000; ++t) full.change(a, t * 10, t);
  full.close(20000);
  CHECK_FALSE(full.truncated());
  CHECK(read_vcd("t_nocap.vcd").signal("top.addr").values.size() == 1001u);
}

TEST_CASE("vcd: misuse is reported", "[vcd]") {
  VcdWriter w("t_misuse.vcd");
  int a = w.add_wire("s", "a", 4);
  CHECK_THROWS_AS(w.add_wire("s", "a", 1), std::invalid_argument);        // duplicate
  CHECK_THROWS_AS(w.add_wire("s", "bad name", 1), std::invalid_argument); // whitespace
  CHECK_THROWS_AS(w.add_wire("s", "w", 65), std::invalid_argument);
  CHECK_THROWS_AS(w.change(a, 10, 16), std::invalid_argument);            // does not fit in 4 bits
  CHECK_THROWS_AS(w.change_real(a, 10, 1.0), std::invalid_argument);
  w.change(a, 100, 3);
  CHECK_THROWS_AS(w.add_wire("s", "late", 1), std::invalid_argument);     // after first change
  w.flush_before(200);
  CHECK_THROWS_AS(w.change(a, 150, 1), std::invalid_argument);            // earlier than flushed
  w.change(a, 200, 1);                                                    // at the boundary: fine
  w.close(300);
  CHECK(read_vcd("t_misuse.vcd").signal("s.a").at(250).as_uint() == 1);
}

TEST_CASE("vcd: identifier codes are compact and unique", "[vcd]") {
  CHECK(VcdWriter::id_code(0) == "!");
  CHECK(VcdWriter::id_code(93) == "~");
  CHECK(VcdWriter::id_code(94) == "!!");
  CHECK(VcdWriter::id_code(95) == "!\"");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < 20000; ++i) REQUIRE(seen.insert(VcdWriter::id_code(i)).second);
  {
    VcdWriter w("t_many.vcd");
    for (int i = 0; i < 300; ++i) w.add_wire("m", "s" + std::to_string(i), 1);
    for (int i = 0; i < 300; ++i) w.change(i, static_cast<uint64_t>(i) + 1, 1);
    w.close(1000);
  }
  VcdFile f = read_vcd("t_many.vcd");
  REQUIRE(f.signals.size() == 300);
  for (int i = 0; i < 300; ++i) {
    const auto& s = f.signal("m.s" + std::to_string(i));
    REQUIRE(s.values.size() == 2);
    CHECK(s.values[1].time == static_cast<uint64_t>(i) + 1);
  }
}

TEST_CASE("vcd: reals keep full precision", "[vcd]") {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  std::vector<double> vals;
  {
    VcdWriter w("t_real.vcd");
    int r = w.add_real("x", "r");
    for (int i = 0; i < 1000; ++i) {
      vals.push_back(u(rng) / 7.0);
      w.change_real(r, static_cast<uint64_t>(i) * 10 + 10, vals.back());
    }
    w.close(20000);
  }
  const VcdFile f = read_vcd("t_real.vcd");
  const auto& s = f.signal("x.r");
  REQUIRE(s.values.size() == 1001);
  for (int i = 0; i < 1000; ++i) REQUIRE(s.values[static_cast<std::size_t>(i) + 1].as_real() == vals[static_cast<std::size_t>(i)]);
}

TEST_CASE("vcd: reader accepts SystemC-style files", "[vcd]") {
  // The shape sc_trace's VCD writer produces (SystemC 2.3.4): $date, $comment, [msb:lsb]
  // references, 'r' reals and a $dumpvars block.
  const std::string text =
      "$date\n     Nov 23, 2026       20:01:02\n$end\n\n$version\n SystemC 2.3.4-Accellera --- Nov 23 2026\n$end\n\n"
      "$timescale\n     1 ps\n$end\n\n$scope module SystemC $end\n$var wire    1  aaaaa  clk       $end\n"
      "$var wire    8  aaaab  data [7:0]  $end\n$var real    1  aaaac  v       $end\n$upscope $end\n"
      "$enddefinitions  $end\n\n$comment\nAll initial values are dumped below at time 0 sec = 0 timescale units.\n$end\n\n"
      "$dumpvars\n0aaaaa\nb0 aaaab\nr0 aaaac\n$end\n\n#5000\n1aaaaa\nb1111 aaaab\nr2.5 aaaac\n\n#10000\nbx aaaab\n";
  VcdFile f = parse_vcd(text);
  CHECK(f.timescale_s == 1e-12);
  CHECK(f.signal("SystemC.data").width == 8);
  CHECK(f.signal("data").at(5000).text == "00001111");
  CHECK(f.signal("data").at(5000).as_uint() == 15);
  CHECK(f.signal("data").at(10000).text == "xxxxxxxx");
  CHECK_FALSE(f.signal("data").at(10000).is_known());
  CHECK(f.signal("v").at(7000).as_real() == 2.5);
  CHECK(f.signal("clk").values.size() == 2);
  CHECK(f.end_time == 10000);
}

TEST_CASE("vcd: reader rejects malformed files", "[vcd]") {
  const std::string head = "$timescale 1 ps $end\n$scope module m $end\n$var wire 4 ! a $end\n$upscope $end\n";
  const std::string good = head + "$enddefinitions $end\n#0\nb0 !\n#10\nb1010 !\n";
  REQUIRE_NOTHROW(parse_vcd(good));
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"no $enddefinitions", head + "#0\n"},
      {"missing $end", "$timescale 1 ps $end\n$scope module m\n$var wire 1 ! a $end\n"},
      {"unknown keyword", head + "$bogus $end\n$enddefinitions $end\n"},
      {"undeclared code", good + "1?\n"},
      {"time goes back", good + "#5\n"},
      {"bad time", good + "#1x\n"},
      {"too wide", good + "b10101 !\n"},
      {"bad digit", good + "b102 !\n"},
      {"value before defs", "$timescale 1 ps $end\n$var wire 1 ! a $end\n1!\n$enddefinitions $end\n"},
      {"var with zero width", "$timescale 1 ps $end\n$var wire 0 ! a $end\n$enddefinitions $end\n"},
      {"var with missing fields", "$timescale 1 ps $end\n$var wire 1 ! $end\n$enddefinitions $end\n"},
      {"unknown var type", "$timescale 1 ps $end\n$var banana 1 ! a $end\n$enddefinitions $end\n"},
      {"unbalanced upscope", "$timescale 1 ps $end\n$upscope $end\n$enddefinitions $end\n"},
      {"scope left open", "$timescale 1 ps $end\n$scope module m $end\n$enddefinitions $end\n"},
      {"bad timescale", "$timescale 3 ps $end\n$enddefinitions $end\n"},
      {"no timescale", "$scope module m $end\n$var wire 1 ! a $end\n$upscope $end\n$enddefinitions $end\n"},
      {"real to wire", good + "r1.5 !\n"},
      {"truncated dumpvars", head + "$enddefinitions $end\n$dumpvars\nb0 !\n"},
      {"scalar without code", good + "1\n"},
      {"not a vcd", "hello world"},
  };
  for (const auto& [what, text] : bad) {
    INFO(what);
    CHECK_THROWS_AS(parse_vcd(text, "bad.vcd"), std::runtime_error);
  }
  try {
    parse_vcd(good + "\n#5\n", "bad.vcd");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).rfind("bad.vcd:11:", 0) == 0);  // names file and line
  }
  CHECK_THROWS_AS(read_vcd("does/not/exist.vcd"), std::runtime_error);
}

TEST_CASE("vcd: same input gives the same bytes", "[vcd]") {
  auto make = [](const std::string& path) {
    VcdWriter w(path);
    int a = w.add_wire("a.b", "x", 16);
    int r = w.add_real("a", "y");
    std::mt19937_64 rng(5);
    for (int i = 0; i < 2000; ++i) {
      w.change(a, rng() % 100000, rng() & 0xffff);
      w.change_real(r, rng() % 100000, static_cast<double>(rng() % 1000) / 3.0);
    }
    w.close(100000);
  };
  make("t_det1.vcd");
  make("t_det2.vcd");
  CHECK(slurp("t_det1.vcd") == slurp("t_det2.vcd"));
  CHECK(slurp("t_det1.vcd").size() > 10000);
}

// ----------------------------------------------------------------------------- Chrome trace
TEST_CASE("chrome: microsecond text has ps resolution", "[chrome]") {
  CHECK(ChromeTrace::us_text(0) == "0");
  CHECK(ChromeTrace::us_text(12345678) == "12.345678");
  CHECK(ChromeTrace::us_text(500000) == "0.5");
  CHECK(ChromeTrace::us_text(3000000) == "3");
  CHECK(ChromeTrace::us_text(1) == "0.000001");
  CHECK(ChromeTrace::us_text(18446744073709551615ull) == "18446744073709.551615");
}

TEST_CASE("chrome: trace parses and holds M, X, i and C events in time order", "[chrome]") {
  {
    ChromeTrace t("t_trace.json");
    int cpu = t.track("host", "cpu");
    int dma = t.track("chip", "dma");
    int cpu2 = t.track("host", "cpu");
    CHECK(cpu2 == cpu);
    t.slice(dma, "copy", "dma", 2500000, 1000001, R"({"bytes":64,"src":"sram"})");
    t.slice(cpu, "boot", "fw", 0, 2000000);
    t.counter("power_mW", "adc", 1.25, 1000000);
    t.flush_before(1500000);  // writes boot and the counter
    t.instant(cpu, "irq", 3000000);
    t.counter("power_mW", "xbar", 0.5, 2500000);
    t.close();
  }
  Json j = Json::parse_file("t_trace.json");
  CHECK(j.at("displayTimeUnit").as_string() == "ns");
  const Json& ev = j.at("traceEvents");
  REQUIRE(ev.is_array());
  std::vector<const Json*> m, x, c, i;
  for (const auto& e : ev.items()) {
    const std::string& ph = e.at("ph").as_string();
    (ph == "M" ? m : ph == "X" ? x : ph == "C" ? c : i).push_back(&e);
  }
  // process_name + sort index for host, chip, counters; thread_name + sort for two threads.
  int pn = 0, tn = 0;
  for (auto* e : m) {
    if (e->at("name").as_string() == "process_name") ++pn;
    if (e->at("name").as_string() == "thread_name") {
      ++tn;
      CHECK((e->at("args").at("name").as_string() == "cpu" || e->at("args").at("name").as_string() == "dma"));
    }
  }
  CHECK(pn == 3);
  CHECK(tn == 2);
  REQUIRE(x.size() == 2);
  CHECK(x[0]->at("name").as_string() == "boot");
  CHECK(x[0]->at("ts").as_double() == 0.0);
  CHECK(x[0]->at("dur").as_double() == 2.0);
  CHECK(x[0]->at("pid").as_int64() == 1);
  CHECK(x[1]->at("name").as_string() == "copy");
  CHECK(x[1]->at("cat").as_string() == "dma");
  CHECK(x[1]->at("ts").as_double() == 2.5);
  CHECK(x[1]->at("dur").as_double() == 1.000001);
  CHECK(x[1]->at("pid").as_int64() == 2);
  CHECK(x[1]->at("args").at("bytes").as_int64() == 64);
  REQUIRE(i.size() == 1);
  CHECK(i[0]->at("ph").as_string() == "i");
  CHECK(i[0]->at("ts").as_double() == 3.0);
  REQUIRE(c.size() == 2);
  CHECK(c[0]->at("ts").as_double() == 1.0);
  CHECK(c[0]->at("args").at("adc").as_double() == 1.25);
  CHECK(c[1]->at("args").at("adc").as_double() == 1.25);  // carried forward
  CHECK(c[1]->at("args").at("xbar").as_double() == 0.5);
  // Timed events appear in non-decreasing ts order.
  double last = -1;
  for (const auto& e : ev.items()) {
    if (e.at("ph").as_string() == "M") continue;
    CHECK(e.at("ts").as_double() >= last);
    last = e.at("ts").as_double();
  }
}

TEST_CASE("chrome: late events are kept and counted, bad args rejected, output deterministic", "[chrome]") {
  auto make = [](const std::string& path) {
    ChromeTrace t(path);
    int a = t.track("p", "t\"hread");  // escaped in the metadata
    t.flush_before(1000);
    t.slice(a, "late", "c", 500, 100);
    CHECK(t.late_events() == 1);
    CHECK_THROWS_AS(t.slice(a, "bad", "c", 2000, 1, "{not json"), std::invalid_argument);
    CHECK_THROWS_AS(t.slice(a, "bad", "c", 2000, 1, "[1]"), std::invalid_argument);
    CHECK_THROWS_AS(t.slice(7, "bad", "c", 2000, 1), std::invalid_argument);
    Json args = Json::object();
    args["layer"] = 3;
    t.slice(a, "ok", "c", 2000, 10, args);
    t.close();
  };
  make("t_det1.json");
  make("t_det2.json");
  CHECK(slurp("t_det1.json") == slurp("t_det2.json"));
  Json j = Json::parse_file("t_det1.json");
  int slices = 0;
  for (const auto& e : j.at("traceEvents").items())
    if (e.at("ph").as_string() == "X") ++slices;
  CHECK(slices == 2);
  ChromeTrace empty("t_empty.json");
  empty.close();
  CHECK(Json::parse_file("t_empty.json").at("traceEvents").size() == 0);
}
