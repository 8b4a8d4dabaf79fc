#include "platform/tracing/tracer.hpp"

#include "platform/trace/chrome_trace.hpp"
#include "platform/trace/vcd_writer.hpp"

namespace cimvp {

uint64_t to_ps(const sc_core::sc_time& t) {
  return static_cast<uint64_t>(t.to_seconds() * 1e12 + 0.5);
}

Tracer::Tracer() = default;
Tracer::~Tracer() {
  close_hooks_.clear();  // hooks may refer to objects already destroyed; only explicit close() runs them
  if (!closed_) close(sc_core::sc_time_stamp());
}

void Tracer::open(const std::string& vcd_path, const std::string& json_path, uint64_t vcd_max_bytes) {
  if (!vcd_path.empty()) {
    vcd_ = std::make_unique<trace::VcdWriter>(vcd_path);
    vcd_->set_max_bytes(vcd_max_bytes);
  }
  if (!json_path.empty()) json_ = std::make_unique<trace::ChromeTrace>(json_path);
}

bool Tracer::vcd_truncated() const { return vcd_ && vcd_->truncated(); }
uint64_t Tracer::vcd_truncated_at_ps() const { return vcd_ ? vcd_->truncated_at_ps() : 0; }

int Tracer::wire(const std::string& scope, const std::string& name, int width) {
  return vcd_ ? vcd_->add_wire(scope, name, width) : -1;
}
int Tracer::real(const std::string& scope, const std::string& name) {
  return vcd_ ? vcd_->add_real(scope, name) : -1;
}
int Tracer::track(const std::string& process, const std::string& thread) {
  return json_ ? json_->track(process, thread) : -1;
}

void Tracer::set(int id, uint64_t value, const sc_core::sc_time& at) {
  if (vcd_ && id >= 0) vcd_->change(id, to_ps(at), value);
}
void Tracer::set_real(int id, double value, const sc_core::sc_time& at) {
  if (vcd_ && id >= 0) vcd_->change_real(id, to_ps(at), value);
}
void Tracer::slice(int track_id, const std::string& name, const std::string& category, const sc_core::sc_time& start,
                   const sc_core::sc_time& duration, const std::string& args_json) {
  if (json_ && track_id >= 0) json_->slice(track_id, name, category, to_ps(start), to_ps(duration), args_json);
}
void Tracer::instant(int track_id, const std::string& name, const sc_core::sc_time& at) {
  if (json_ && track_id >= 0) json_->instant(track_id, name, to_ps(at));
}
void Tracer::counter(const std::string& name, const std::string& series, double value, const sc_core::sc_time& at) {
  if (json_) json_->counter(name, series, value, to_ps(at));
}

bool Tracer::admit(const std::string& stream, uint64_t max) {
  auto& s = streams_[stream];
  if (!json_ || s.first >= max) {
    ++s.second;
    return false;
  }
  ++s.first;
  return true;
}
uint64_t Tracer::admitted(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.first;
}
uint64_t Tracer::refused(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.second;
}

void Tracer::flush() {
  uint64_t now = to_ps(sc_core::sc_time_stamp());
  if (vcd_) vcd_->flush_before(now);
  if (json_) json_->flush_before(now);
}

void Tracer::close(const sc_core::sc_time& end_time) {
  if (closed_) return;
  closed_ = true;
  if (vcd_) vcd_->close(to_ps(end_time));
  if (json_) {
    for (auto& [key, hook] : close_hooks_) hook(*json_, to_ps(end_time));
    json_->close();
  }
}

void Tracer::set_close_hook(const std::string& key, CloseHook hook) { close_hooks_[key] = std::move(hook); }

}  // namespace cimvp
