#include "platform/power/power_monitor.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include "platform/trace/chrome_trace.hpp"
#include "platform/trace/json.hpp"
#include "platform/trace/vcd_writer.hpp"

namespace cimvp::power {

using trace::format_double;

namespace {

constexpr long double kPjPerUwPs = 1e-6L;  // 1 uW x 1 ps = 1e-18 J = 1e-6 pJ

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error(path + ": cannot create file (check the output folder exists)");
  f << text;
  f.close();
  if (!f) throw std::runtime_error(path + ": write error (disk full?)");
}

}  // namespace

std::string ns_text(uint64_t ps) {
  std::string s = std::to_string(ps / 1000);
  uint64_t frac = ps % 1000;
  if (frac) {
    std::string f = std::to_string(frac);
    f.insert(0, 3 - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    s += '.' + f;
  }
  return s;
}

PowerMonitor::PowerMonitor(uint64_t bin_ps, std::size_t max_bins) : bin_ps_(bin_ps), max_bins_(max_bins) {
  if (bin_ps == 0) throw std::invalid_argument("PowerMonitor: bin width is 0 ps; set a positive power bin width");
  if (max_bins < 2) throw std::invalid_argument("PowerMonitor: max_bins must be at least 2");
}

void PowerMonitor::bin_per_kind() {
  if (!comps_.empty())
    throw std::logic_error("PowerMonitor::bin_per_kind: call it before the first add_component");
  per_kind_ = true;
}

void PowerMonitor::require_component_bins(const char* what) const {
  if (per_kind_)
    throw std::logic_error(std::string("PowerMonitor::") + what +
                           ": this monitor bins per kind (bin_per_kind); use grouped_by_kind() for the trace");
}

int PowerMonitor::add_component(const std::string& name, double area_um2, double leakage_uw) {
  if (name.empty()) throw std::invalid_argument("PowerMonitor: component name is empty");
  for (unsigned char c : name)
    if (c <= 32 || c >= 127 || c == ',' || c == '"')
      throw std::invalid_argument("PowerMonitor: component name '" + name +
                                  "' may not contain spaces, commas, quotes or non-ASCII characters");
  if (index_.count(name)) throw std::invalid_argument("PowerMonitor: component '" + name + "' registered twice");
  if (!std::isfinite(area_um2) || area_um2 < 0)
    throw std::invalid_argument("PowerMonitor: area of '" + name + "' must be finite and >= 0 um2");
  if (!std::isfinite(leakage_uw) || leakage_uw < 0)
    throw std::invalid_argument("PowerMonitor: leakage of '" + name + "' must be finite and >= 0 uW");
  Comp c;
  c.name = name;
  c.area_um2 = area_um2;
  c.leakage_uw = leakage_uw;
  const int id = static_cast<int>(comps_.size());
  int owner = id;
  if (per_kind_) owner = kind_owner_.emplace(component_kind(name), id).first->second;
  if (owner == id) {
    c.bins.assign(nbins_, 0.0);
    owners_.push_back(id);
  }
  comps_.push_back(std::move(c));
  bin_owner_.push_back(owner);
  index_[name] = id;
  return id;
}

const PowerMonitor::Comp& PowerMonitor::comp(std::size_t i) const {
  if (i >= comps_.size())
    throw std::out_of_range("PowerMonitor: component index " + std::to_string(i) + " out of range (" +
                            std::to_string(comps_.size()) + " registered)");
  return comps_[i];
}

int PowerMonitor::component_id(const std::string& name) const {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  throw std::invalid_argument("PowerMonitor: no component named '" + name + "'; register it with add_component");
}

PowerMonitor::Comp& PowerMonitor::comp_checked(int id, double energy_pj, const char* what) {
  if (id < 0 || static_cast<std::size_t>(id) >= comps_.size())
    throw std::invalid_argument(std::string("PowerMonitor::") + what + ": unknown component id " +
                                std::to_string(id) + " (use the id returned by add_component)");
  Comp& c = comps_[static_cast<std::size_t>(id)];
  if (!std::isfinite(energy_pj) || energy_pj < 0)
    throw std::invalid_argument(std::string("PowerMonitor::") + what + ": energy for '" + c.name +
                                "' must be finite and >= 0 pJ, got " + format_double(energy_pj));
  return c;
}

void PowerMonitor::ensure_bin(uint64_t t_ps) {
  uint64_t idx = t_ps / bin_ps_;
  while (idx >= max_bins_) {
    // Merge bin pairs: the width doubles, energy is only re-grouped, never changed.
    std::size_t n = (nbins_ + 1) / 2;
    for (int o : owners_) {
      Comp& c = comps_[static_cast<std::size_t>(o)];
      for (std::size_t b = 0; b < n; ++b) {
        double e = c.bins[2 * b];
        if (2 * b + 1 < nbins_) e += c.bins[2 * b + 1];
        c.bins[b] = e;
      }
      c.bins.resize(n);
    }
    nbins_ = n;
    bin_ps_ *= 2;
    idx = t_ps / bin_ps_;
  }
  if (idx >= nbins_) {
    nbins_ = static_cast<std::size_t>(idx) + 1;
    // Room for a quarter more bins at once: with thousands of components, growing every
    // vector by one bin per new bin is most of the monitor's cost. Bins past nbins_ stay 0.
    for (int o : owners_) {
      Comp& c = comps_[static_cast<std::size_t>(o)];
      if (c.bins.size() < nbins_) c.bins.resize(std::min(max_bins_, nbins_ + nbins_ / 4 + 16), 0.0);
    }
  }
}

void PowerMonitor::add(int id, double energy_pj, uint64_t t_ps) {
  comp_checked(id, energy_pj, "add");
  ensure_bin(t_ps);
  Comp& c = comps_[static_cast<std::size_t>(id)];
  c.dynamic_pj += energy_pj;
  bins_of(id)[t_ps / bin_ps_] += energy_pj;
  ++events_;
  last_t_ = std::max(last_t_, t_ps);
}

void PowerMonitor::add_spread(int id, double energy_pj, uint64_t t_start_ps, uint64_t dur_ps) {
  if (dur_ps == 0) return add(id, energy_pj, t_start_ps);
  comp_checked(id, energy_pj, "add_spread");
  const uint64_t t_end = t_start_ps + dur_ps;  // exclusive
  ensure_bin(t_end - 1);                       // may coarsen; bin_ps_ is final after this
  Comp& c = comps_[static_cast<std::size_t>(id)];
  std::vector<double>& bins = bins_of(id);
  const uint64_t b0 = t_start_ps / bin_ps_, b1 = (t_end - 1) / bin_ps_;
  long double placed = 0;
  for (uint64_t b = b0; b <= b1; ++b) {
    double piece;
    if (b == b1) {
      piece = static_cast<double>(static_cast<long double>(energy_pj) - placed);  // remainder: pieces sum to E
    } else {
      uint64_t lo = std::max(t_start_ps, b * bin_ps_), hi = std::min(t_end, (b + 1) * bin_ps_);
      piece = static_cast<double>(static_cast<long double>(energy_pj) * static_cast<long double>(hi - lo) /
                                  static_cast<long double>(dur_ps));
      placed += piece;
    }
    bins[static_cast<std::size_t>(b)] += piece;
  }
  c.dynamic_pj += energy_pj;
  ++events_;
  last_t_ = std::max(last_t_, t_end - 1);
}

void PowerMonitor::add_busy(int id, uint64_t t_start_ps, uint64_t dur_ps) {
  if (id < 0 || static_cast<std::size_t>(id) >= comps_.size())
    throw std::invalid_argument("PowerMonitor::add_busy: unknown component id " + std::to_string(id) +
                                " (use the id returned by add_component)");
  if (dur_ps == 0) return;
  Comp& c = comps_[static_cast<std::size_t>(id)];
  uint64_t s = t_start_ps, e = t_start_ps + dur_ps;
  auto& v = c.busy;
  auto& pre = c.busy_prefix;
  if (v.empty() || s > v.back().second) {  // the usual case: after everything so far
    pre.push_back(v.empty() ? 0 : pre.back() + (v.back().second - v.back().first));
    v.emplace_back(s, e);
    return;
  }
  if (s >= v.back().first) {  // overlaps or touches the last interval
    v.back().second = std::max(v.back().second, e);
    return;
  }
  // Earlier than the last interval: merge with every interval it overlaps or touches.
  auto lo = std::lower_bound(v.begin(), v.end(), s,
                             [](const std::pair<uint64_t, uint64_t>& iv, uint64_t t) { return iv.second < t; });
  auto hi = lo;
  while (hi != v.end() && hi->first <= e) {
    s = std::min(s, hi->first);
    e = std::max(e, hi->second);
    ++hi;
  }
  const std::size_t k = static_cast<std::size_t>(lo - v.begin());
  lo = v.erase(lo, hi);
  v.insert(lo, {s, e});
  pre.resize(v.size());
  for (std::size_t i = k; i < v.size(); ++i) pre[i] = i == 0 ? 0 : pre[i - 1] + (v[i - 1].second - v[i - 1].first);
}

uint64_t PowerMonitor::busy_ps(std::size_t i) const {
  const Comp& c = comp(i);
  return c.busy.empty() ? 0 : c.busy_prefix.back() + (c.busy.back().second - c.busy.back().first);
}

uint64_t PowerMonitor::busy_ps_before(std::size_t i, uint64_t t_ps) const {
  const Comp& c = comp(i);
  // Last interval starting before t: everything before it lies wholly before t.
  auto it = std::upper_bound(c.busy.begin(), c.busy.end(), t_ps,
                             [](uint64_t t, const std::pair<uint64_t, uint64_t>& iv) { return t <= iv.first; });
  if (it == c.busy.begin()) return 0;
  --it;
  const std::size_t k = static_cast<std::size_t>(it - c.busy.begin());
  return c.busy_prefix[k] + (std::min(it->second, t_ps) - it->first);
}

double PowerMonitor::static_pj(std::size_t i, uint64_t end_ps) const {
  return static_cast<double>(static_cast<long double>(comp(i).leakage_uw) * static_cast<long double>(end_ps) *
                             kPjPerUwPs);
}

double PowerMonitor::total_pj(uint64_t end_ps) const {
  long double t = 0;
  for (std::size_t i = 0; i < comps_.size(); ++i) t += comps_[i].dynamic_pj + static_pj(i, end_ps);
  return static_cast<double>(t);
}

double PowerMonitor::total_area_um2() const {
  long double a = 0;
  for (const auto& c : comps_) a += c.area_um2;
  return static_cast<double>(a);
}

std::size_t PowerMonitor::rows_for(uint64_t end_ps) {
  if (end_ps > 0) ensure_bin(end_ps - 1);
  return nbins_;
}

double PowerMonitor::bin_dynamic_pj(std::size_t ci, std::size_t bin) const {
  require_component_bins("bin_dynamic_pj");
  const Comp& c = comp(ci);
  return bin < c.bins.size() ? c.bins[bin] : 0.0;
}

double PowerMonitor::static_in_bin_pj(const Comp& c, std::size_t bin, uint64_t end_ps) const {
  uint64_t lo = static_cast<uint64_t>(bin) * bin_ps_;
  if (lo >= end_ps) return 0.0;
  uint64_t hi = std::min(end_ps, lo + bin_ps_);
  return static_cast<double>(static_cast<long double>(c.leakage_uw) * static_cast<long double>(hi - lo) *
                             kPjPerUwPs);
}

double PowerMonitor::bin_power_mw(std::size_t ci, std::size_t bin, uint64_t end_ps) const {
  const Comp& c = comp(ci);
  long double e = static_cast<long double>(bin_dynamic_pj(ci, bin)) + static_in_bin_pj(c, bin, end_ps);
  return static_cast<double>(e / static_cast<long double>(bin_ps_) * 1e3L);  // pJ/ps = W
}

std::string PowerMonitor::power_csv(uint64_t end_ps) {
  require_component_bins("power_csv");
  const std::size_t rows = rows_for(end_ps);
  std::string s = "time_ns";
  for (const auto& c : comps_) s += "," + c.name + "_mW";
  s += ",total_mW\n";
  for (std::size_t b = 0; b < rows; ++b) {
    s += ns_text(static_cast<uint64_t>(b) * bin_ps_);
    long double tot = 0;
    for (std::size_t i = 0; i < comps_.size(); ++i) {
      double p = bin_power_mw(i, b, end_ps);
      tot += p;
      s += ',' + format_double(p);
    }
    s += ',' + format_double(static_cast<double>(tot)) + '\n';
  }
  return s;
}

std::string PowerMonitor::energy_breakdown_csv(uint64_t end_ps) const {
  const double total = total_pj(end_ps);
  std::string s = "component,dynamic_pJ,static_pJ,total_pJ,share\n";
  for (std::size_t i = 0; i < comps_.size(); ++i) {
    double d = dynamic_pj(i), st = static_pj(i, end_ps), t = static_cast<double>(comps_[i].dynamic_pj + st);
    s += comps_[i].name + ',' + format_double(d) + ',' + format_double(st) + ',' + format_double(t) + ',' +
         format_double(total > 0 ? t / total : 0.0) + '\n';
  }
  return s;
}

std::string PowerMonitor::area_breakdown_csv() const {
  const double total = total_area_um2();
  std::string s = "component,area_um2,share\n";
  for (const auto& c : comps_)
    s += c.name + ',' + format_double(c.area_um2) + ',' + format_double(total > 0 ? c.area_um2 / total : 0.0) + '\n';
  return s;
}

void PowerMonitor::write_power_csv(const std::string& path, uint64_t end_ps) { write_file(path, power_csv(end_ps)); }
void PowerMonitor::write_energy_breakdown_csv(const std::string& path, uint64_t end_ps) const {
  write_file(path, energy_breakdown_csv(end_ps));
}
void PowerMonitor::write_area_breakdown_csv(const std::string& path) const { write_file(path, area_breakdown_csv()); }

void PowerMonitor::write_power_vcd(const std::string& path, uint64_t end_ps) {
  require_component_bins("write_power_vcd");
  const std::size_t rows = rows_for(end_ps);
  trace::VcdWriter vcd(path);
  std::vector<int> ids;
  for (const auto& c : comps_) ids.push_back(vcd.add_real("power", c.name + "_mW"));
  const int total_id = vcd.add_real("power", "total_mW");
  for (std::size_t b = 0; b < rows; ++b) {
    const uint64_t t = static_cast<uint64_t>(b) * bin_ps_;
    long double tot = 0;
    for (std::size_t i = 0; i < comps_.size(); ++i) {
      double p = bin_power_mw(i, b, end_ps);
      tot += p;
      vcd.change_real(ids[i], t, p);
    }
    vcd.change_real(total_id, t, static_cast<double>(tot));
  }
  vcd.close(static_cast<uint64_t>(rows) * bin_ps_);
}

void PowerMonitor::write_power_counters(trace::ChromeTrace& tr, uint64_t end_ps, const std::string& counter) {
  require_component_bins("write_power_counters");
  const std::size_t rows = rows_for(end_ps);
  std::vector<std::pair<std::string, double>> v(comps_.size() + 1);
  for (std::size_t i = 0; i < comps_.size(); ++i) v[i].first = comps_[i].name;
  v.back().first = "total";
  for (std::size_t b = 0; b < rows; ++b) {
    long double tot = 0;
    for (std::size_t i = 0; i < comps_.size(); ++i) {
      v[i].second = bin_power_mw(i, b, end_ps);
      tot += v[i].second;
    }
    v.back().second = static_cast<double>(tot);
    tr.counter(counter, v, static_cast<uint64_t>(b) * bin_ps_);
  }
  if (rows > 0) {
    for (auto& p : v) p.second = 0.0;
    tr.counter(counter, v, static_cast<uint64_t>(rows) * bin_ps_);
  }
}

PowerMonitor PowerMonitor::grouped(const std::vector<std::string>& group) const {
  if (per_kind_) {
    // Bins exist per kind only: a grouping must not split a kind.
    std::unordered_map<int, std::string> group_of_owner;
    for (std::size_t i = 0; i < comps_.size() && i < group.size(); ++i) {
      auto r = group_of_owner.emplace(bin_owner_[i], group[i]);
      if (!r.first->second.empty() && r.first->second != group[i])
        throw std::logic_error("PowerMonitor::grouped: this monitor bins per kind; '" + comps_[i].name +
                               "' and '" + comps_[static_cast<std::size_t>(bin_owner_[i])].name +
                               "' share bins but are put in different groups");
    }
  }
  if (group.size() != comps_.size())
    throw std::invalid_argument("PowerMonitor::grouped: " + std::to_string(group.size()) + " group names for " +
                                std::to_string(comps_.size()) + " components");
  PowerMonitor g(bin_ps_, max_bins_);
  g.nbins_ = nbins_;
  g.events_ = events_;
  g.last_t_ = last_t_;
  for (std::size_t i = 0; i < comps_.size(); ++i) {
    auto it = g.index_.find(group[i]);
    int id = it != g.index_.end() ? it->second : g.add_component(group[i], 0.0, 0.0);
    Comp& d = g.comps_[static_cast<std::size_t>(id)];
    const Comp& c = comps_[i];
    d.area_um2 += c.area_um2;
    d.leakage_uw += c.leakage_uw;
    d.dynamic_pj += c.dynamic_pj;
    for (std::size_t b = 0; b < nbins_ && b < c.bins.size(); ++b) d.bins[b] += c.bins[b];  // per kind: owners only
  }
  return g;
}

PowerMonitor PowerMonitor::grouped_by_kind() const {
  std::vector<std::string> names;
  names.reserve(comps_.size());
  for (const auto& c : comps_) {
    std::string k = component_kind(c.name);
    for (auto& ch : k)
      if (ch == ' ') ch = '_';
    names.push_back(k);
  }
  return grouped(names);
}

std::string component_kind(const std::string& name) {
  auto ends = [&](const std::string& suf) {
    return name.size() > suf.size() && name.compare(name.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (ends("_adc")) return "adc";
  if (ends(".array")) return "crossbar array";
  if (ends(".periphery")) return "tile periphery";
  std::size_t i = name.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(name[i - 1]))) --i;
  if (i < name.size() && i > 0) return name.substr(0, i) + " registers";
  return name;
}

}  // namespace cimvp::power
